using System.Text.Json;
using MediaActors.Api.Auth;
using MediaActors.Api.Idempotency;
using MediaActors.Providers.Media;
using MediaActors.Grains.Projects;
using MediaActors.Providers.Storage;
using MediaActors.Providers;
using Npgsql;

namespace MediaActors.Api.Uploads;

/// <summary>Limits of direct uploads (section "Uploads").</summary>
public sealed class UploadOptions
{
    public long MaxBytes { get; set; } = 5L * 1024 * 1024 * 1024;

    public TimeSpan UrlLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Web origins whose pages may PUT blocks to upload URLs: the API host adds this CORS rule to the blob service at
    /// start (the web app uploads straight to storage). "*" by default: the SAS in each URL is the credential.
    /// </summary>
    public string[] BrowserOrigins { get; set; } = ["*"];

    /// <summary>Whether the API host sets that CORS rule; false when the storage account's CORS is managed elsewhere.</summary>
    public bool ConfigureStorageCors { get; set; } = true;
}

/// <summary>An upload as a client that resumes it sees it: the blocks already staged and a fresh URL while it is pending.</summary>
public sealed record UploadStatusResponse(Guid UploadId, string FileName, long DeclaredSizeBytes, string Status, DateTimeOffset ExpiresAt,
    string? UploadUrl, IReadOnlyList<UploadedBlock> UploadedBlocks, Guid? ProjectId);

public sealed record UploadedBlock(string Id, long SizeBytes);

public sealed record CreateUploadRequest(string? FileName, string? ContentType, long? SizeBytes);

public sealed record CreateUploadResponse(Guid UploadId, string UploadUrl, DateTimeOffset ExpiresAt, string Method, string BlobType);

public sealed record CompleteUploadResponse(Guid UploadId, long SizeBytes, string Md5, MediaInfo Media);

/// <summary>Flow 2: the client uploads straight to blob storage through a write-only SAS URL; the API only checks the result.</summary>
public static class UploadEndpoints
{
    public static void MapUploads(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/uploads").RequireAuthorization().WithTags("Uploads");
        group.MapPost("/", CreateAsync).WithIdempotencyKey();
        group.MapPost("/{uploadId:guid}/complete", CompleteAsync);
        group.MapGet("/limits", (Microsoft.Extensions.Options.IOptions<UploadOptions> options) =>
            Results.Ok(new { maxBytes = options.Value.MaxBytes, contentTypes = new[] { "video/*", "audio/*" }, urlLifetimeSeconds = (long)options.Value.UrlLifetime.TotalSeconds }));
        group.MapGet("/{uploadId:guid}", StatusAsync);
    }

    /// <summary>
    /// What an interrupted client needs to go on: the blocks storage already holds (uncommitted) and, while the upload
    /// is pending, a fresh upload URL (its expiry moves with it, so the sweep does not take a file still being sent).
    /// </summary>
    private static async Task<IResult> StatusAsync(Guid uploadId, HttpContext http, NpgsqlDataSource db, BlobStore blobs,
        Microsoft.Extensions.Options.IOptions<UploadOptions> options, CancellationToken cancellationToken)
    {
        var userId = http.User.UserId();
        var upload = await FindAsync(db, uploadId, userId, cancellationToken);
        if (upload is null)
        {
            return Problems.NotFound("upload");
        }

        string? url = null;
        IReadOnlyList<(string Name, long SizeBytes)> blocks = [];
        DateTimeOffset expiresAt;
        if (upload.Status == "pending")
        {
            expiresAt = DateTimeOffset.UtcNow.Add(options.Value.UrlLifetime);
            await using var command = db.CreateCommand(
                "UPDATE uploads SET expires_at = greatest(expires_at, $3) WHERE id = $1 AND user_id = $2 AND status = 'pending' RETURNING expires_at");
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = uploadId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = expiresAt.UtcDateTime });
            if (await command.ExecuteScalarAsync(cancellationToken) is DateTime stored)
            {
                expiresAt = new DateTimeOffset(DateTime.SpecifyKind(stored, DateTimeKind.Utc));
                url = blobs.GetUploadUri(upload.Container, upload.BlobName, expiresAt).ToString();
                blocks = await blobs.GetUncommittedBlocksAsync(upload.Container, upload.BlobName, cancellationToken);
            }
        }
        else
        {
            expiresAt = upload.ExpiresAt;
        }

        return Results.Ok(new UploadStatusResponse(uploadId, upload.FileName, upload.DeclaredSize, url is null && upload.Status == "pending" ? "expired" : upload.Status,
            expiresAt, url, blocks.Select(b => new UploadedBlock(b.Name, b.SizeBytes)).ToList(), upload.ProjectId));
    }

    private static async Task<IResult> CreateAsync(CreateUploadRequest request, HttpContext http, NpgsqlDataSource db, BlobStore blobs,
        Microsoft.Extensions.Options.IOptions<UploadOptions> options, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.FileName) || request.FileName.Length > 255 || RequestGuards.HasControlCharacters(request.FileName))
        {
            errors["fileName"] = ["fileName is required: at most 255 characters, without control characters."];
        }

        var contentType = request.ContentType?.Trim().ToLowerInvariant();
        if (contentType is null || !(contentType.StartsWith("video/", StringComparison.Ordinal) || contentType.StartsWith("audio/", StringComparison.Ordinal)
            || contentType == "application/octet-stream") || contentType.Length > 100 || RequestGuards.HasControlCharacters(contentType))
        {
            errors["contentType"] = ["contentType must be a video/*, audio/* or application/octet-stream type."];
        }

        if (request.SizeBytes is not > 0)
        {
            errors["sizeBytes"] = ["sizeBytes must be a positive number of bytes."];
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest("Fix the fields listed in errors.", errors);
        }

        if (request.SizeBytes > options.Value.MaxBytes)
        {
            return Problems.TooLarge($"The file is {request.SizeBytes} bytes; the limit is {options.Value.MaxBytes} bytes.");
        }

        var userId = http.User.UserId();
        var uploadId = http.CreateId();
        var blobName = $"{SafeNames.ForPath(userId, 64)}/{uploadId}/{SafeNames.ForPath(request.FileName!)}";
        var expiresAt = DateTimeOffset.UtcNow.Add(options.Value.UrlLifetime);
        await blobs.EnsureContainersAsync(cancellationToken);
        await using (var command = db.CreateCommand(
            """
            INSERT INTO uploads (id, user_id, file_name, content_type, declared_size, container, blob_name, status, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)
            ON CONFLICT (id) DO NOTHING
            """))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = uploadId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = request.FileName! });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = contentType! });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = request.SizeBytes!.Value });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Containers.Uploads });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = blobName });
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = expiresAt.UtcDateTime });
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                // Created by an earlier request with the same Idempotency-Key that did not get to answer: that upload, as it was made.
                var existing = await FindAsync(db, uploadId, userId, cancellationToken)
                    ?? throw new InvalidOperationException($"Upload {uploadId} exists for another user.");
                (blobName, expiresAt) = (existing.BlobName, existing.ExpiresAt);
            }
        }

        var url = blobs.GetUploadUri(Containers.Uploads, blobName, expiresAt);
        return Results.Created($"/api/uploads/{uploadId}", new CreateUploadResponse(uploadId, url.ToString(), expiresAt, "PUT", "BlockBlob"));
    }

    private static async Task<IResult> CompleteAsync(Guid uploadId, HttpContext http, NpgsqlDataSource db, BlobStore blobs, MediaTools media,
        IClusterClient cluster, Microsoft.Extensions.Options.IOptions<UploadOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var userId = http.User.UserId();
        var upload = await FindAsync(db, uploadId, userId, cancellationToken);
        if (upload is null)
        {
            return Problems.NotFound("upload");
        }

        if (upload.Status == "expired")
        {
            return Problems.Gone(ExpiredDetail);
        }

        if (upload.Status == "completed")
        {
            return Results.Ok(new CompleteUploadResponse(uploadId, upload.SizeBytes!.Value, upload.Md5!, JsonSerializer.Deserialize<MediaInfo>(upload.Media!, JsonDefaults.Options)!));
        }

        var info = await blobs.GetInfoAsync(upload.Container, upload.BlobName, cancellationToken);
        if (info is null)
        {
            return Problems.Conflict("Nothing was uploaded yet: upload the blocks to uploadUrl and commit the block list, then call complete.");
        }

        if (info.SizeBytes > options.Value.MaxBytes)
        {
            await blobs.DeleteIfExistsAsync(upload.Container, upload.BlobName, cancellationToken);
            return Problems.TooLarge($"The uploaded file is {info.SizeBytes} bytes; the limit is {options.Value.MaxBytes} bytes. It was deleted.");
        }

        MediaInfo probe;
        try
        {
            // ffprobe reads the blob in place through a short-lived read URL: only the headers it needs cross the network.
            probe = await media.ProbeAsync(blobs.GetInternalReadUri(upload.Container, upload.BlobName, DateTimeOffset.UtcNow.AddMinutes(10)).ToString(), cancellationToken);
        }
        catch (Providers.StepException ex)
        {
            await blobs.DeleteIfExistsAsync(upload.Container, upload.BlobName, cancellationToken);
            return Problems.Unprocessable($"{ex.Message} The uploaded file was deleted; upload a video or audio file.");
        }

        var md5 = Convert.ToHexStringLower(await blobs.GetOrComputeMd5Async(upload.Container, upload.BlobName, cancellationToken));
        Guid? projectId;
        await using (var command = db.CreateCommand(
            """
            UPDATE uploads SET status = 'completed', size_bytes = $3, md5 = $4, media = $5::jsonb, completed_at = now()
            WHERE id = $1 AND user_id = $2 AND status = 'pending'
            RETURNING project_id
            """))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = uploadId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = info.SizeBytes });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = md5 });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(probe, JsonDefaults.Options) });
            // Read back in the same statement, so a project linked a moment ago is not missed.
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                // It expired (or a concurrent complete finished it) while this one checked the blob.
                var now = await FindAsync(db, uploadId, userId, cancellationToken);
                return now?.Status switch
                {
                    null => Problems.NotFound("upload"),
                    "completed" => Results.Ok(new CompleteUploadResponse(uploadId, now.SizeBytes!.Value, now.Md5!,
                        JsonSerializer.Deserialize<MediaInfo>(now.Media!, JsonDefaults.Options)!)),
                    _ => Problems.Gone(ExpiredDetail),
                };
            }

            projectId = reader.IsDBNull(0) ? null : reader.GetGuid(0);
        }

        if (projectId is { } linked)
        {
            // A project created while the upload was running starts now; if the call fails, the project's watchdog
            // reads the completed upload from its row and starts anyway.
            try
            {
                if (http.RequestServices.GetRequiredService<ClusterConnection>().IsConnected)
                {
                    await cluster.GetGrain<IProjectGrain>(linked).UploadCompleted();
                }
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                loggers.CreateLogger("Uploads").LogWarning(ex, "Telling project {ProjectId} that its upload completed failed; its watchdog will notice", linked);
            }
        }

        loggers.CreateLogger("Uploads").LogInformation("Upload {UploadId} completed: {Size} bytes", uploadId, info.SizeBytes);
        return Results.Ok(new CompleteUploadResponse(uploadId, info.SizeBytes, md5, probe));
    }

    /// <summary>What a client is told about an upload that expired before it was completed.</summary>
    internal const string ExpiredDetail =
        "This upload expired before it was completed and its file was deleted. Create a new upload (POST /api/uploads) and upload the file again.";

    internal static async Task<UploadRow?> FindAsync(NpgsqlDataSource db, Guid uploadId, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT status, container, blob_name, size_bytes, md5, media::text, project_id, file_name, declared_size, expires_at FROM uploads WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = uploadId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new UploadRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetInt64(3),
            reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetGuid(6),
            reader.GetString(7), reader.GetInt64(8), new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(9), DateTimeKind.Utc)));
    }

    internal sealed record UploadRow(string Status, string Container, string BlobName, long? SizeBytes, string? Md5, string? Media, Guid? ProjectId,
        string FileName, long DeclaredSize, DateTimeOffset ExpiresAt);
}
