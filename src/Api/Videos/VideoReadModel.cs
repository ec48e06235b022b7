using System.Text.Json;
using System.Text.Json.Serialization;
using MediaActors.Api.Projects;
using MediaActors.Api.Publish;
using MediaActors.Grains.Videos;
using MediaActors.Providers;
using Npgsql;
using NpgsqlTypes;

namespace MediaActors.Api.Videos;

/// <summary>An avatar video as the API shows it; <see cref="DownloadUrl"/> is a short-lived read-only URL of a ready video's file.</summary>
public sealed record VideoResponse(
    Guid Id,
    string Status,
    string Kind,
    string Title,
    JsonElement? Avatar,
    JsonElement? Voice,
    string? Error,
    long? SizeBytes,
    double? DurationSeconds,
    string? Format,
    int? Width,
    int? Height,
    int LateCallbacks,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DispatchedAt,
    DateTimeOffset? ReadyAt,
    DateTimeOffset EstimatedReadyAt,
    DateTimeOffset UpdatedAt)
{
    public string? DownloadUrl { get; init; }

    public DateTimeOffset? DownloadUrlExpiresAt { get; init; }

    /// <summary>The request as it was sent to the generator (history only).</summary>
    public JsonElement? Request { get; init; }

    [JsonIgnore]
    public string? BlobContainer { get; init; }

    [JsonIgnore]
    public string? BlobName { get; init; }
}

/// <summary>Queries of the videos read model, always filtered by the owner.</summary>
public static class VideoReadModel
{
    private const string Columns =
        "id, status, kind, title, avatar::text, voice::text, error, size_bytes, media::text, late_callbacks, created_at, dispatched_at, ready_at, " +
        "estimated_ready_at, updated_at, blob_container, blob_name, request::text";

    public static async Task<VideoResponse?> GetAsync(NpgsqlDataSource db, Guid id, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM videos WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader, withRequest: true) : null;
    }

    /// <summary>The user's videos, newest first (only <paramref name="status"/> when given); cursor = (created_at, id) of the last item.</summary>
    public static async Task<(List<VideoResponse> Items, string? NextCursor)> ListAsync(NpgsqlDataSource db, string userId, string? status, bool withRequest, int limit,
        (DateTime At, Guid Id)? after, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            $"""
            SELECT {Columns} FROM videos
            WHERE user_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
            ORDER BY created_at DESC, id DESC LIMIT $5
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } a ? a.At : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } b ? b.Id : Guid.Empty, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var items = new List<VideoResponse>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(Read(reader, withRequest));
            }
        }

        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            next = ProjectReadModel.EncodeCursor(items[^1].CreatedAt, items[^1].Id);
        }

        return (items, next);
    }

    /// <summary>How long videos took lately (median over the last 20 ready ones), for a new video's estimate.</summary>
    public static async Task<TimeSpan?> RecentMedianAsync(NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ready_at - created_at))
            FROM (SELECT ready_at, created_at FROM videos WHERE status = 'ready' ORDER BY ready_at DESC LIMIT 20) recent
            """);
        return await command.ExecuteScalarAsync(cancellationToken) is double seconds ? TimeSpan.FromSeconds(seconds) : null;
    }

    public static VideoResponse FromGrain(VideoView view) => new(
        view.Id, PublishKeysName(view.Status), view.Kind, view.Title, Element(view.Avatar), Element(view.Voice), view.Error, view.SizeBytes,
        view.Media?.DurationSeconds, view.Media?.FormatName, view.Media?.Width, view.Media?.Height, view.LateCallbacks, view.CreatedAt, view.DispatchedAt, view.ReadyAt,
        view.EstimatedReadyAt, view.CreatedAt);

    private static string PublishKeysName(VideoStatus status) => JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString());

    private static JsonElement? Element(object? value) => value is null ? null : JsonSerializer.SerializeToElement(value, JsonDefaults.Options);

    private static VideoResponse Read(NpgsqlDataReader r, bool withRequest)
    {
        JsonElement? Json(int i) => r.IsDBNull(i) ? null : JsonDocument.Parse(r.GetString(i)).RootElement.Clone();
        var media = Json(8);
        double? duration = media is { } m && m.TryGetProperty("durationSeconds", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetDouble() : null;
        string? format = media is { } f && f.TryGetProperty("formatName", out var fn) && fn.ValueKind == JsonValueKind.String ? fn.GetString() : null;
        int? width = media is { } w && w.TryGetProperty("width", out var wv) && wv.ValueKind == JsonValueKind.Number ? wv.GetInt32() : null;
        int? height = media is { } h && h.TryGetProperty("height", out var hv) && hv.ValueKind == JsonValueKind.Number ? hv.GetInt32() : null;
        return new VideoResponse(
            r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), Json(4), Json(5), r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetInt64(7),
            duration, format, width, height, r.GetInt32(9), PublishReadModel.Time(r, 10)!.Value, PublishReadModel.Time(r, 11), PublishReadModel.Time(r, 12),
            PublishReadModel.Time(r, 13)!.Value, PublishReadModel.Time(r, 14)!.Value)
        {
            BlobContainer = r.IsDBNull(15) ? null : r.GetString(15),
            BlobName = r.IsDBNull(16) ? null : r.GetString(16),
            Request = withRequest ? Json(17) : null,
        };
    }
}
