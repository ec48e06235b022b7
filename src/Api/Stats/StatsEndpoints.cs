using MediaActors.Api.Auth;
using Npgsql;

namespace MediaActors.Api.Stats;

/// <summary>
/// <c>GET /api/stats</c>: the user's figures from the read models: projects, publish jobs and avatar videos by status,
/// success rates (finished well / finished), median and p95 time per processing step and per avatar video, and the
/// storage their files take (completed uploads, videos fetched from links, avatar videos).
/// </summary>
public static class StatsEndpoints
{
    public static void MapStats(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/stats", StatsAsync).RequireAuthorization().WithTags("Stats");

    private static async Task<IResult> StatsAsync(HttpContext http, NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        var userId = http.User.UserId();
        var projects = await ReadModelFigures.CountsByStatusAsync(db, "projects", userId, cancellationToken);
        var publishJobs = await ReadModelFigures.CountsByStatusAsync(db, "publish_jobs", userId, cancellationToken);
        var videos = await ReadModelFigures.CountsByStatusAsync(db, "videos", userId, cancellationToken);
        var steps = (await ReadModelFigures.StepsAsync(db, userId, cancellationToken)).Where(s => s.Completed > 0)
            .Select(s => new { step = s.Step, count = s.Completed, medianSeconds = s.P50Seconds, p95Seconds = s.P95Seconds }).ToList();

        object? videoTimes = null;
        await using (var command = db.CreateCommand(
            """
            SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ready_at - created_at)),
                percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM ready_at - created_at))
            FROM videos WHERE user_id = $1 AND status = 'ready'
            """))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken) && reader.GetInt64(0) > 0)
            {
                videoTimes = new { count = reader.GetInt64(0), medianSeconds = ReadModelFigures.Round(reader.GetDouble(1)), p95Seconds = ReadModelFigures.Round(reader.GetDouble(2)) };
            }
        }

        await using var storage = db.CreateCommand(
            """
            SELECT (SELECT coalesce(sum(size_bytes), 0) FROM uploads WHERE user_id = $1 AND status = 'completed')::bigint,
                   (SELECT coalesce(sum(size_bytes), 0) FROM projects WHERE user_id = $1 AND source->>'kind' = 'url')::bigint,
                   (SELECT coalesce(sum(size_bytes), 0) FROM videos WHERE user_id = $1)::bigint
            """);
        storage.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        long uploads = 0, links = 0, avatarVideos = 0;
        await using (var reader = await storage.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                (uploads, links, avatarVideos) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            }
        }

        return Results.Ok(new
        {
            projects = new { byStatus = projects, successRate = Rate(projects, "completed", "failed") },
            publishJobs = new { byStatus = publishJobs, successRate = Rate(publishJobs, "completed", "failed") },
            videos = new { byStatus = videos, successRate = Rate(videos, "ready", "failed"), processing = videoTimes },
            steps,
            storage = new { uploadsBytes = uploads, linkVideosBytes = links, avatarVideosBytes = avatarVideos, totalBytes = uploads + links + avatarVideos },
        });
    }

    /// <summary>Good outcomes over finished ones; null before anything finished.</summary>
    private static double? Rate(Dictionary<string, long> counts, string good, string bad)
    {
        var finished = counts.GetValueOrDefault(good) + counts.GetValueOrDefault(bad);
        return finished == 0 ? null : Math.Round((double)counts.GetValueOrDefault(good) / finished, 3);
    }
}
