using System.Text;
using System.Text.Json;
using MediaActors.Api.Auth;
using MediaActors.Api.Google;
using MediaActors.Api.Idempotency;
using MediaActors.Api.Projects;
using MediaActors.Api.Realtime;
using MediaActors.Grains.Google;
using MediaActors.Grains.Projects;
using MediaActors.Grains.Publish;
using MediaActors.Providers.Google;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Api.Publish;

/// <summary>What to publish: exactly one of a project's source video, a completed upload, an avatar video or a Drive file.</summary>
public sealed record PublishSourceRequest(Guid? ProjectId, Guid? UploadId, Guid? VideoId, string? DriveFileId);

/// <summary>
/// <c>POST /api/publish</c>: the source and the YouTube metadata; title, description and tags default to the project's
/// generated content (or the file's name), privacy to private.
/// </summary>
public sealed record PublishRequestBody(
    PublishSourceRequest? Source, string? Title, string? Description, IReadOnlyList<string>? Tags, string? Privacy, bool? MadeForKids, string? CategoryId);

/// <summary>
/// Flow 4 through REST: queue a video for YouTube, list and follow jobs (their events over the hub and SSE like a
/// project's), cancel, retry, the quota and the upload history. Every endpoint answers 503 with how to configure Google
/// when no OAuth client is configured.
/// </summary>
public static class PublishEndpoints
{
    private const int MaxTitle = YouTubeText.MaxTitle;
    private const int MaxDescription = YouTubeText.MaxDescription;
    private const int MaxTagsChars = YouTubeText.MaxTagsChars;

    public static void MapPublish(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/publish").RequireAuthorization().WithTags("Publish")
            .AddEndpointFilter(async (context, next) =>
                context.HttpContext.RequestServices.GetRequiredService<IOptions<GoogleOptions>>().Value.IsConfigured ? await next(context) : GoogleEndpoints.NotConfigured());
        group.MapPost("/", CreateAsync).WithIdempotencyKey();
        group.MapGet("/", (HttpContext http, NpgsqlDataSource db, string? status, int? limit, string? cursor, CancellationToken ct) =>
            ListAsync(http, db, status, history: false, limit, cursor, ct));
        group.MapGet("/history", (HttpContext http, NpgsqlDataSource db, int? limit, string? cursor, CancellationToken ct) =>
            ListAsync(http, db, null, history: true, limit, cursor, ct));
        group.MapGet("/quota", QuotaAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPost("/{id:guid}/cancel", (Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, CancellationToken ct) =>
            CommandAsync(id, http, db, cluster, g => g.Cancel(), ct));
        group.MapPost("/{id:guid}/retry", (Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, CancellationToken ct) =>
            CommandAsync(id, http, db, cluster, g => g.Retry(), ct));
        group.MapPublishEvents();
        group.MapPublishFolders();
    }

    private static async Task<IResult> CreateAsync(PublishRequestBody request, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, BlobStore blobs,
        DriveClient drive, CancellationToken cancellationToken)
    {
        var userId = http.User.UserId();
        var errors = new Dictionary<string, string[]>();
        var given = new[] { request.Source?.ProjectId is not null, request.Source?.UploadId is not null, request.Source?.VideoId is not null,
            !string.IsNullOrWhiteSpace(request.Source?.DriveFileId) }.Count(g => g);
        if (given != 1)
        {
            errors["source"] = ["Give exactly one of source.projectId, source.uploadId, source.videoId or source.driveFileId."];
        }
        else if (request.Source!.DriveFileId is { } fileId && (fileId.Length > 200 || !fileId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            errors["source.driveFileId"] = ["Not a Drive file id (letters, digits, '-' and '_')."];
        }

        Validate(request, errors);
        if (errors.Count > 0)
        {
            return Problems.BadRequest("The publish request is not valid: see errors.", errors);
        }

        try
        {
            var account = await cluster.GetGrain<IGoogleAccountGrain>(userId).Get();
            if (!account.Connected)
            {
                return Problems.Conflict(account.Problem ?? "No Google account is connected: connect one with GET /api/google/connect first.");
            }

            var resolved = request.Source!.ProjectId is { } projectId ? await FromProjectAsync(db, blobs, projectId, userId, cancellationToken)
                : request.Source.UploadId is { } uploadId ? await FromUploadAsync(db, uploadId, userId, cancellationToken)
                : request.Source.VideoId is { } videoId ? await FromVideoAsync(db, blobs, videoId, userId, cancellationToken)
                : await FromDriveAsync(cluster, drive, userId, request.Source.DriveFileId!, cancellationToken);
            if (resolved.Problem is { } problem)
            {
                return problem;
            }

            var (source, defaults) = (resolved.Source!, resolved.Defaults!);
            var metadata = new VideoMetadata(
                YouTubeText.Clean(request.Title, MaxTitle) is { Length: > 0 } title ? title : YouTubeText.Clean(defaults.Title, MaxTitle) is { Length: > 0 } fallback
                    ? fallback : "Untitled video",
                request.Description is not null ? YouTubeText.Clean(request.Description, MaxDescription) : YouTubeText.Clean(defaults.Description, MaxDescription),
                request.Tags is not null ? request.Tags.Select(t => t.Trim()).Where(t => t.Length > 0).ToList() : YouTubeText.FitTags(defaults.Tags),
                request.Privacy ?? "private",
                request.MadeForKids ?? false,
                request.CategoryId ?? "22");

            var jobId = http.CreateId();
            var created = await cluster.GetGrain<IPublishJobGrain>(jobId).Create(new CreatePublishJob(userId, source, metadata));
            if (!created.Exists)
            {
                return Results.Problem(title: "Already queued.", statusCode: StatusCodes.Status409Conflict,
                    detail: $"Publish job {created.DuplicateOf} is already queued for the same file (MD5 {source.Md5}); it is not queued twice.",
                    extensions: new Dictionary<string, object?> { ["jobId"] = created.DuplicateOf });
            }

            return Results.Accepted($"/api/publish/{jobId}", PublishReadModel.FromGrain(created));
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Problems.Unavailable("No silo answered in time; nothing was queued. Try again.");
        }
    }

    /// <summary>Adds an error per bad metadata field (YouTube's rules).</summary>
    internal static void Validate(PublishRequestBody request, Dictionary<string, string[]> errors)
    {
        if (request.Title is { } title && (title.Trim().Length is 0 or > MaxTitle || title.Contains('<') || title.Contains('>') || title.Any(char.IsControl)))
        {
            errors["title"] = [$"1 to {MaxTitle} characters, without '<', '>' or control characters (YouTube's rule)."];
        }

        if (request.Description is { } description && (description.Length > MaxDescription || description.Contains('<') || description.Contains('>')))
        {
            errors["description"] = [$"At most {MaxDescription} characters, without '<' or '>' (YouTube's rule)."];
        }

        if (request.Tags is { } tags && (tags.Any(t => t is null || t.Contains('<') || t.Contains('>') || t.Any(char.IsControl)) || tags.Sum(t => (t?.Length ?? 0) + 1) > MaxTagsChars))
        {
            errors["tags"] = [$"At most {MaxTagsChars} characters in all, without '<', '>' or control characters."];
        }

        if (request.Privacy is { } privacy && !YouTubeText.Privacies.Contains(privacy))
        {
            errors["privacy"] = ["One of private, unlisted or public."];
        }

        if (request.CategoryId is { } category && (category.Length is 0 or > 3 || !category.All(char.IsAsciiDigit)))
        {
            errors["categoryId"] = ["A YouTube video category id: 1 to 3 digits (22 is People & Blogs)."];
        }
    }

    private sealed record Defaults(string? Title, string? Description, IReadOnlyList<string> Tags);

    private sealed record Resolved(PublishSource? Source, Defaults? Defaults, IResult? Problem)
    {
        public static Resolved Refused(IResult problem) => new(null, null, problem);
    }

    /// <summary>A project's source video, with its generated title, summary and topics as the defaults.</summary>
    private static async Task<Resolved> FromProjectAsync(NpgsqlDataSource db, BlobStore blobs, Guid projectId, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            SELECT p.title, p.video_blob, c.title, a.summary, a.topics::text
            FROM projects p LEFT JOIN contents c ON c.project_id = p.id LEFT JOIN analyses a ON a.project_id = p.id
            WHERE p.id = $1 AND p.user_id = $2
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        string projectTitle;
        string? videoBlob, contentTitle, summary, topics;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return Resolved.Refused(Problems.NotFound("project"));
            }

            projectTitle = reader.GetString(0);
            videoBlob = reader.IsDBNull(1) ? null : reader.GetString(1);
            contentTitle = reader.IsDBNull(2) ? null : reader.GetString(2);
            summary = reader.IsDBNull(3) ? null : reader.GetString(3);
            topics = reader.IsDBNull(4) ? null : reader.GetString(4);
        }

        if (videoBlob?.Split('/', 2) is not [var container, var name])
        {
            return Resolved.Refused(Problems.Conflict("This project has no video yet (it was not downloaded): publish it once its downloading step completed."));
        }

        var info = await blobs.GetInfoAsync(container, name, cancellationToken);
        if (info is null)
        {
            return Resolved.Refused(Problems.Conflict("This project's video is no longer in storage."));
        }

        var md5 = Convert.ToHexStringLower(await blobs.GetOrComputeMd5Async(container, name, cancellationToken));
        var source = new PublishSource(PublishSource.ProjectKind, projectId, null, null, new BlobRef(container, name), Path.GetFileName(name),
            info.ContentType is { Length: > 0 } type ? type : "video/mp4", info.SizeBytes, md5);
        var tags = topics is null ? [] : JsonSerializer.Deserialize<List<string>>(topics) ?? [];
        return new Resolved(source, new Defaults(contentTitle ?? projectTitle, summary, tags), null);
    }

    /// <summary>A ready avatar video; its title is the default title.</summary>
    private static async Task<Resolved> FromVideoAsync(NpgsqlDataSource db, BlobStore blobs, Guid videoId, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT status, title, blob_container, blob_name FROM videos WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = videoId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        string title, container, name;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return Resolved.Refused(Problems.NotFound("avatar video"));
            }

            if (reader.GetString(0) != "ready" || reader.IsDBNull(2) || reader.IsDBNull(3))
            {
                return Resolved.Refused(Problems.Conflict($"This avatar video is {reader.GetString(0)}, not ready: publish it once it is ready."));
            }

            (title, container, name) = (reader.GetString(1), reader.GetString(2), reader.GetString(3));
        }

        var info = await blobs.GetInfoAsync(container, name, cancellationToken);
        if (info is null)
        {
            return Resolved.Refused(Problems.Conflict("This avatar video's file is no longer in storage."));
        }

        var md5 = Convert.ToHexStringLower(await blobs.GetOrComputeMd5Async(container, name, cancellationToken));
        var source = new PublishSource(PublishSource.VideoKind, null, null, null, new BlobRef(container, name), Path.GetFileName(name), "video/mp4", info.SizeBytes, md5,
            videoId);
        return new Resolved(source, new Defaults(title, null, []), null);
    }

    /// <summary>A completed direct upload; its file name is the default title.</summary>
    private static async Task<Resolved> FromUploadAsync(NpgsqlDataSource db, Guid uploadId, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT status, container, blob_name, size_bytes, md5, content_type, file_name FROM uploads WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = uploadId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return Resolved.Refused(Problems.NotFound("upload"));
        }

        if (reader.GetString(0) != "completed" || reader.IsDBNull(3) || reader.IsDBNull(4))
        {
            return Resolved.Refused(Problems.Conflict("This upload is not completed: complete it (POST /api/uploads/{id}/complete) before publishing it."));
        }

        var fileName = reader.GetString(6);
        var source = new PublishSource(PublishSource.UploadKind, null, uploadId, null, new BlobRef(reader.GetString(1), reader.GetString(2)), fileName,
            reader.GetString(5), reader.GetInt64(3), reader.GetString(4));
        return new Resolved(source, new Defaults(Path.GetFileNameWithoutExtension(fileName), null, []), null);
    }

    /// <summary>A Drive video of the user's: its name, size and MD5 as Drive reports them (the file is copied when the job runs).</summary>
    private static async Task<Resolved> FromDriveAsync(IClusterClient cluster, DriveClient drive, string userId, string fileId, CancellationToken cancellationToken)
    {
        var account = cluster.GetGrain<IGoogleAccountGrain>(userId);
        DriveFile file;
        try
        {
            file = await WithTokenAsync(account, token => drive.GetFileAsync(token, fileId, cancellationToken));
        }
        catch (GoogleApiException ex) when (ex.Kind == GoogleFailureKind.NotFound)
        {
            return Resolved.Refused(Problems.NotFound("Drive file"));
        }
        catch (GoogleApiException ex) when (ex.Kind == GoogleFailureKind.Unauthorized)
        {
            return Resolved.Refused(Problems.Conflict("Google refused the account's access: reconnect your Google account (GET /api/google/connect)."));
        }
        catch (GoogleApiException ex)
        {
            return Resolved.Refused(Results.Problem(title: "Google refused.", detail: ex.Message, statusCode: StatusCodes.Status502BadGateway));
        }
        catch (InvalidOperationException ex)
        {
            return Resolved.Refused(Problems.Conflict(ex.Message));
        }

        if (!file.MimeType.StartsWith("video/", StringComparison.Ordinal))
        {
            return Resolved.Refused(Problems.Unprocessable($"The Drive file is not a video ({file.MimeType})."));
        }

        if (file.Size is not > 0 || string.IsNullOrEmpty(file.Md5Checksum))
        {
            return Resolved.Refused(Problems.Unprocessable("Drive gives no size or MD5 for this file, so it cannot be checked for duplicates."));
        }

        var source = new PublishSource(PublishSource.DriveKind, null, null, file.Id, null, file.Name, file.MimeType, file.Size.Value, file.Md5Checksum.ToLowerInvariant());
        return new Resolved(source, new Defaults(Path.GetFileNameWithoutExtension(file.Name), null, []), null);
    }

    /// <summary>A Google call with the user's access token, refreshed once after a 401.</summary>
    internal static async Task<T> WithTokenAsync<T>(IGoogleAccountGrain account, Func<string, Task<T>> call)
    {
        var token = await account.AccessToken(false);
        try
        {
            return await call(TokenOrThrow(token));
        }
        catch (GoogleApiException ex) when (ex.Kind == GoogleFailureKind.Unauthorized)
        {
            return await call(TokenOrThrow(await account.AccessToken(true)));
        }
    }

    private static string TokenOrThrow(GoogleAccessToken token) =>
        token.Token is { Length: > 0 } value ? value : throw new InvalidOperationException(token.Message ?? "No Google access token: reconnect your Google account.");

    private static async Task<IResult> ListAsync(HttpContext http, NpgsqlDataSource db, string? status, bool history, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        if (status is not null && !Enum.GetValues<PublishStatus>().Where(s => s != PublishStatus.None).Select(PublishKeys.Name).Contains(status))
        {
            return Problems.BadRequest("status must be one of pending, downloading, uploading, completed, failed, cancelled.");
        }

        if (limit is < 1 or > 100)
        {
            return Problems.BadRequest("limit must be between 1 and 100.");
        }

        (DateTime, Guid)? after = null;
        if (cursor is not null)
        {
            after = ProjectReadModel.DecodeCursor(cursor);
            if (after is null)
            {
                return Problems.BadRequest("cursor is not valid: pass the nextCursor of the previous page.");
            }
        }

        var (items, next) = await PublishReadModel.ListAsync(db, http.User.UserId(), status, history, limit ?? 20, after, cancellationToken);
        return Results.Ok(new { items, nextCursor = next });
    }

    private static async Task<IResult> GetAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken cancellationToken) =>
        await PublishReadModel.GetAsync(db, id, http.User.UserId(), cancellationToken) is { } job ? Results.Ok(job) : Problems.NotFound("publish job");

    private static async Task<IResult> CommandAsync(Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, Func<IPublishJobGrain, Task<PublishJobView>> command,
        CancellationToken cancellationToken)
    {
        if (await PublishReadModel.GetAsync(db, id, http.User.UserId(), cancellationToken) is null)
        {
            return Problems.NotFound("publish job");
        }

        try
        {
            return Results.Ok(PublishReadModel.FromGrain(await command(cluster.GetGrain<IPublishJobGrain>(id))));
        }
        catch (InvalidOperationException ex)
        {
            return Problems.Conflict(ex.Message);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Problems.Unavailable("No silo answered in time. Try again.");
        }
    }

    private static async Task<IResult> QuotaAsync(IClusterClient cluster, IOptions<GoogleOptions> google)
    {
        try
        {
            var quota = await cluster.GetGrain<IPublishQuotaGrain>(PublishKeys.Quota(google.Value)).Get();
            return Results.Ok(new
            {
                day = quota.Day,
                usedUnits = quota.UsedUnits,
                dailyLimit = quota.DailyLimit,
                remainingUnits = Math.Max(0, quota.DailyLimit - quota.UsedUnits),
                resetsAt = quota.ResetsAt,
                paused = quota.PausedUntil is not null,
                pausedUntil = quota.PausedUntil,
            });
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Problems.Unavailable("No silo answered in time. Try again.");
        }
    }
}
