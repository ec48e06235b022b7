using System.Text.Json;
using MediaActors.Grains.Publish;
using MediaActors.Providers;
using Npgsql;
using NpgsqlTypes;

namespace MediaActors.Api.Publish;

/// <summary>A publish job as the API shows it.</summary>
public sealed record PublishJobResponse(
    Guid Id,
    string Status,
    int Progress,
    JsonElement Source,
    JsonElement Metadata,
    string? VideoId,
    string? VideoUrl,
    bool AlreadyOnYouTube,
    string? Message,
    string? Error,
    int Attempts,
    DateTimeOffset? RetryAt,
    DateTimeOffset? WaitingForQuotaUntil,
    string? FolderId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CompletedAt);

/// <summary>Queries of the publish_jobs read model, always filtered by the owner; pages are newest first with an opaque cursor.</summary>
public static class PublishReadModel
{
    private const string Columns =
        "id, status, progress, source::text, metadata::text, video_id, already_on_youtube, error, attempts, retry_at, waiting_for_quota_until, folder_id, created_at, updated_at, completed_at";

    public static string VideoUrl(string videoId) => $"https://www.youtube.com/watch?v={Uri.EscapeDataString(videoId)}";

    public static async Task<PublishJobResponse?> GetAsync(NpgsqlDataSource db, Guid id, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM publish_jobs WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>
    /// The user's jobs, newest first (<paramref name="history"/>: only completed ones, by completion time); the cursor is
    /// the (time, id) of the previous page's last item.
    /// </summary>
    public static async Task<(List<PublishJobResponse> Items, string? NextCursor)> ListAsync(
        NpgsqlDataSource db, string userId, string? status, bool history, int limit, (DateTime At, Guid Id)? after, CancellationToken cancellationToken)
    {
        var order = history ? "completed_at" : "created_at";
        await using var command = db.CreateCommand(
            $"""
            SELECT {Columns} FROM publish_jobs
            WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
              AND ($3::timestamptz IS NULL OR ({order}, id) < ($3, $4))
            ORDER BY {order} DESC, id DESC
            LIMIT $5
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)(history ? "completed" : status) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } a ? a.At : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } b ? b.Id : Guid.Empty, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var items = new List<PublishJobResponse>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(Read(reader));
            }
        }

        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            var last = items[^1];
            var at = history ? last.CompletedAt!.Value : last.CreatedAt;
            next = Projects.ProjectReadModel.EncodeCursor(at, last.Id);
        }

        return (items, next);
    }

    /// <summary>The job as its grain reports it, in the read model's shape (the answer to a create).</summary>
    public static PublishJobResponse FromGrain(PublishJobView view) => new(
        view.Id, PublishKeys.Name(view.Status), view.Progress, JsonSerializer.SerializeToElement(view.Source, JsonDefaults.Options),
        JsonSerializer.SerializeToElement(view.Metadata, JsonDefaults.Options), view.VideoId, view.VideoId is { } v ? VideoUrl(v) : null, view.AlreadyOnYouTube,
        Message(view.Status == PublishStatus.Completed, view.AlreadyOnYouTube, view.VideoId), view.Error, view.Attempts, view.RetryAt, view.WaitingForQuotaUntil,
        null, view.CreatedAt, view.UpdatedAt, null);

    private static string? Message(bool completed, bool alreadyOnYouTube, string? videoId) =>
        completed && alreadyOnYouTube ? $"This file was already uploaded to YouTube as {videoId}, and that video still exists: it was not uploaded again." : null;

    private static PublishJobResponse Read(NpgsqlDataReader r)
    {
        var status = r.GetString(1);
        var videoId = r.IsDBNull(5) ? null : r.GetString(5);
        var already = r.GetBoolean(6);
        return new PublishJobResponse(
            r.GetGuid(0), status, r.GetInt32(2), JsonDocument.Parse(r.GetString(3)).RootElement.Clone(), JsonDocument.Parse(r.GetString(4)).RootElement.Clone(),
            videoId, videoId is null ? null : VideoUrl(videoId), already, Message(status == "completed", already, videoId), r.IsDBNull(7) ? null : r.GetString(7),
            r.GetInt32(8), Time(r, 9), Time(r, 10), r.IsDBNull(11) ? null : r.GetString(11), Time(r, 12)!.Value, Time(r, 13)!.Value, Time(r, 14));
    }

    internal static DateTimeOffset? Time(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : new DateTimeOffset(r.GetDateTime(i), TimeSpan.Zero);
}
