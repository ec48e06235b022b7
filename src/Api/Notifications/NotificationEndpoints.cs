using MediaActors.Api.Auth;
using Npgsql;

namespace MediaActors.Api.Notifications;

/// <summary>One notification: what it is about (subject "project", "publish_job" or "video", and its id), the event kind, the text.</summary>
public sealed record NotificationResponse(long Id, string Subject, Guid SubjectId, string Kind, string Title, string Message, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

/// <summary>
/// The user's notifications of finished and failed projects, publish jobs and avatar videos (written with the event that
/// announces each): <c>GET /api/notifications</c> (newest first, <c>?unread=true</c>, paged by <c>cursor</c>), with the
/// unread count; <c>POST /api/notifications/{id}/read</c> and <c>POST /api/notifications/read</c> (all).
/// </summary>
public static class NotificationEndpoints
{
    public static void MapNotifications(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/notifications").RequireAuthorization().WithTags("Notifications");
        group.MapGet("/", ListAsync);
        group.MapPost("/{id:long}/read", async (long id, HttpContext http, NpgsqlDataSource db, CancellationToken ct) =>
            await MarkAsync(db, http.User.UserId(), id, ct) > 0 || await ExistsAsync(db, http.User.UserId(), id, ct) ? Results.NoContent() : Problems.NotFound("notification"));
        group.MapPost("/read", async (HttpContext http, NpgsqlDataSource db, CancellationToken ct) =>
            Results.Ok(new { marked = await MarkAsync(db, http.User.UserId(), null, ct) }));
    }

    private static async Task<IResult> ListAsync(HttpContext http, NpgsqlDataSource db, bool? unread, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 100)
        {
            return Problems.BadRequest("limit must be between 1 and 100.");
        }

        long? before = null;
        if (cursor is not null)
        {
            if (!long.TryParse(cursor, out var parsed) || parsed <= 0)
            {
                return Problems.BadRequest("cursor is not valid: pass the nextCursor of the previous page.");
            }

            before = parsed;
        }

        var userId = http.User.UserId();
        var take = limit ?? 20;
        await using var command = db.CreateCommand(
            """
            SELECT id, subject_kind, subject_id, kind, title, message, created_at, read_at FROM notifications
            WHERE user_id = $1 AND ($2 = false OR read_at IS NULL) AND ($3::bigint IS NULL OR id < $3)
            ORDER BY id DESC LIMIT $4
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = unread == true });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)before ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = take + 1 });
        var items = new List<NotificationResponse>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(new NotificationResponse(reader.GetInt64(0), reader.GetString(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), new DateTimeOffset(reader.GetDateTime(6), TimeSpan.Zero),
                    reader.IsDBNull(7) ? null : new DateTimeOffset(reader.GetDateTime(7), TimeSpan.Zero)));
            }
        }

        string? next = null;
        if (items.Count > take)
        {
            items.RemoveAt(take);
            next = items[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var count = db.CreateCommand("SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL");
        count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        return Results.Ok(new { items, unreadCount = (long)(await count.ExecuteScalarAsync(cancellationToken))!, nextCursor = next });
    }

    private static async Task<int> MarkAsync(NpgsqlDataSource db, string userId, long? id, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL AND ($2::bigint IS NULL OR id = $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)id ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<bool> ExistsAsync(NpgsqlDataSource db, string userId, long id, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT EXISTS (SELECT 1 FROM notifications WHERE user_id = $1 AND id = $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
