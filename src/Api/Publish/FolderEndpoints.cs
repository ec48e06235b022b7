using System.Text.Json;
using System.Xml;
using MediaActors.Api.Auth;
using MediaActors.Api.Idempotency;
using MediaActors.Api.Projects;
using MediaActors.Grains.Google;
using MediaActors.Grains.Publish;
using MediaActors.Providers.Google;
using MediaActors.Providers.Storage;
using Npgsql;

namespace MediaActors.Api.Publish;

/// <summary>The metadata of the jobs a folder watch queues.</summary>
public sealed record FolderDefaultsRequest(string? Description, IReadOnlyList<string>? Tags, string? Privacy, bool? MadeForKids, string? CategoryId);

/// <summary><c>POST /api/publish/folders</c>: a Drive folder or a blob prefix (inside the user's own uploads), an ISO 8601 interval, job defaults.</summary>
public sealed record CreateFolderRequest(string? DriveFolderId, string? BlobPrefix, string? Schedule, FolderDefaultsRequest? Defaults);

/// <summary>A folder watch as the API shows it.</summary>
public sealed record FolderResponse(
    Guid Id, string? DriveFolderId, string? BlobPrefix, string Schedule, int IntervalSeconds, JsonElement Defaults, DateTimeOffset? LastScanAt,
    DateTimeOffset? NextScanAt, string? LastError, int FilesSeen, int JobsQueued, DateTimeOffset CreatedAt);

/// <summary>Scheduled folder scans that queue publish jobs: create, list, read, scan now, delete.</summary>
public static class FolderEndpoints
{
    private const string Columns =
        "id, drive_folder, blob_prefix, interval_s, defaults::text, last_scan_at, next_scan_at, last_error, files_seen, jobs_queued, created_at";

    public static void MapPublishFolders(this RouteGroupBuilder publish)
    {
        var group = publish.MapGroup("/folders");
        group.MapPost("/", CreateAsync).WithIdempotencyKey();
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", async (Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct) =>
            await GetAsync(db, id, http.User.UserId(), ct) is { } folder ? Results.Ok(folder) : Problems.NotFound("folder watch"));
        group.MapPost("/{id:guid}/scan", (Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, CancellationToken ct) =>
            CommandAsync(id, http, db, cluster, async g => Results.Ok(await GetAsync(db, (await g.Scan()).Id, http.User.UserId(), ct)), ct));
        group.MapDelete("/{id:guid}", (Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, CancellationToken ct) =>
            CommandAsync(id, http, db, cluster, async g =>
            {
                await g.Delete();
                return Results.NoContent();
            }, ct));
    }

    private static async Task<IResult> CreateAsync(CreateFolderRequest request, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, IConfiguration configuration,
        CancellationToken cancellationToken)
    {
        var userId = http.User.UserId();
        var errors = new Dictionary<string, string[]>();
        var drive = request.DriveFolderId?.Trim();
        var prefix = request.BlobPrefix?.Trim();
        if (string.IsNullOrEmpty(drive) == string.IsNullOrEmpty(prefix))
        {
            errors["source"] = ["Give exactly one of driveFolderId or blobPrefix."];
        }
        else if (drive is not null && (drive.Length > 200 || !drive.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            errors["driveFolderId"] = ["Not a Drive folder id (letters, digits, '-' and '_')."];
        }
        else if (prefix is not null && (prefix.Length > 200 || prefix.StartsWith('/') || prefix.Contains("..", StringComparison.Ordinal)
            || !prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/')))
        {
            errors["blobPrefix"] = ["A relative prefix inside your uploads: letters, digits, '-', '_', '.' and '/', no '..', at most 200 characters."];
        }

        var minimum = configuration.GetValue<TimeSpan?>("Publish:MinFolderInterval") ?? TimeSpan.FromMinutes(5);
        TimeSpan interval = default;
        try
        {
            interval = XmlConvert.ToTimeSpan(request.Schedule ?? "");
        }
        catch (FormatException)
        {
            errors["schedule"] = ["An ISO 8601 duration between scans, such as PT1H (hourly) or P1D (daily)."];
        }

        if (!errors.ContainsKey("schedule") && (interval < minimum || interval > TimeSpan.FromDays(30)))
        {
            errors["schedule"] = [$"Between {XmlConvert.ToString(minimum)} and P30D."];
        }

        var defaults = request.Defaults ?? new FolderDefaultsRequest(null, null, null, null, null);
        PublishEndpoints.Validate(new PublishRequestBody(null, null, defaults.Description, defaults.Tags, defaults.Privacy, defaults.MadeForKids, defaults.CategoryId), errors);
        if (errors.Count > 0)
        {
            return Problems.BadRequest("The folder watch is not valid: see errors.", errors);
        }

        try
        {
            var account = await cluster.GetGrain<IGoogleAccountGrain>(userId).Get();
            if (!account.Connected)
            {
                return Problems.Conflict(account.Problem ?? "No Google account is connected: connect one with GET /api/google/connect first.");
            }

            var id = http.CreateId();
            await cluster.GetGrain<IFolderWatchGrain>(id).Create(new CreateFolderWatch(userId, drive, prefix is null ? null : UserPrefix(userId) + prefix, interval,
                new FolderDefaults(YouTubeText.Clean(defaults.Description, YouTubeText.MaxDescription), YouTubeText.FitTags(defaults.Tags ?? []),
                    defaults.Privacy ?? "private", defaults.MadeForKids ?? false, defaults.CategoryId ?? "22")));
            return Results.Created($"/api/publish/folders/{id}", await GetAsync(db, id, userId, cancellationToken));
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Problems.Unavailable("No silo answered in time. Try again.");
        }
    }

    /// <summary>Where a user's uploads are in the uploads container (what a blob prefix is relative to).</summary>
    private static string UserPrefix(string userId) => SafeNames.ForPath(userId, 64) + "/";

    private static async Task<IResult> ListAsync(HttpContext http, NpgsqlDataSource db, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 100)
        {
            return Problems.BadRequest("limit must be between 1 and 100.");
        }

        var after = cursor is null ? null : ProjectReadModel.DecodeCursor(cursor);
        if (cursor is not null && after is null)
        {
            return Problems.BadRequest("cursor is not valid: pass the nextCursor of the previous page.");
        }

        var userId = http.User.UserId();
        var take = limit ?? 20;
        await using var command = db.CreateCommand(
            $"""
            SELECT {Columns} FROM publish_folders WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
            ORDER BY created_at DESC, id DESC LIMIT $4
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } a ? a.CreatedAt : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } b ? b.Id : Guid.Empty, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = take + 1 });
        var items = new List<FolderResponse>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(Read(reader, userId));
            }
        }

        string? next = null;
        if (items.Count > take)
        {
            items.RemoveAt(take);
            next = ProjectReadModel.EncodeCursor(items[^1].CreatedAt, items[^1].Id);
        }

        return Results.Ok(new { items, nextCursor = next });
    }

    private static async Task<FolderResponse?> GetAsync(NpgsqlDataSource db, Guid id, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM publish_folders WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader, userId) : null;
    }

    private static async Task<IResult> CommandAsync(Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, Func<IFolderWatchGrain, Task<IResult>> command,
        CancellationToken cancellationToken)
    {
        if (await GetAsync(db, id, http.User.UserId(), cancellationToken) is null)
        {
            return Problems.NotFound("folder watch");
        }

        try
        {
            return await command(cluster.GetGrain<IFolderWatchGrain>(id));
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Problems.Unavailable("No silo answered in time. Try again.");
        }
    }

    private static FolderResponse Read(NpgsqlDataReader r, string userId)
    {
        var interval = TimeSpan.FromSeconds(r.GetInt32(3));
        var prefix = r.IsDBNull(2) ? null : r.GetString(2);
        return new FolderResponse(
            r.GetGuid(0), r.IsDBNull(1) ? null : r.GetString(1), prefix is not null && prefix.StartsWith(UserPrefix(userId), StringComparison.Ordinal) ? prefix[UserPrefix(userId).Length..] : prefix,
            XmlConvert.ToString(interval), (int)interval.TotalSeconds, JsonDocument.Parse(r.GetString(4)).RootElement.Clone(), PublishReadModel.Time(r, 5), PublishReadModel.Time(r, 6),
            r.IsDBNull(7) ? null : r.GetString(7), r.GetInt32(8), r.GetInt32(9), PublishReadModel.Time(r, 10)!.Value);
    }
}
