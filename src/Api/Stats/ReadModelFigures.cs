using Npgsql;

namespace MediaActors.Api.Stats;

/// <summary>One processing step's figures: completed and failed step records, and the median and p95 duration of the completed ones.</summary>
public sealed record StepFigures(string Step, long Completed, long Failed, double? P50Seconds, double? P95Seconds);

/// <summary>
/// Figures over the read models shared by <c>GET /api/stats</c> (one user) and the operator's overview (every user,
/// <c>userId</c> null).
/// </summary>
public static class ReadModelFigures
{
    /// <summary>Rows of <paramref name="table"/> (projects, publish_jobs, videos) by status.</summary>
    public static async Task<Dictionary<string, long>> CountsByStatusAsync(NpgsqlDataSource db, string table, string? userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT status, count(*) FROM {table} {UserFilter(userId, "WHERE")} GROUP BY status ORDER BY status");
        AddUser(command, userId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<string, long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>Per step that completed or failed at least once (from the <c>projects.steps</c> jsonb), in the pipeline's order.</summary>
    public static async Task<List<StepFigures>> StepsAsync(NpgsqlDataSource db, string? userId, CancellationToken cancellationToken)
    {
        const string Duration = "extract(epoch FROM (s->>'finishedAt')::timestamptz - (s->>'startedAt')::timestamptz)";
        const string Timed = "s->>'status' = 'completed' AND s->>'startedAt' IS NOT NULL AND s->>'finishedAt' IS NOT NULL";
        await using var command = db.CreateCommand(
            $"""
            SELECT s->>'name',
                count(*) FILTER (WHERE s->>'status' = 'completed'),
                count(*) FILTER (WHERE s->>'status' = 'failed'),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY {Duration}) FILTER (WHERE {Timed}),
                percentile_cont(0.95) WITHIN GROUP (ORDER BY {Duration}) FILTER (WHERE {Timed})
            FROM projects p CROSS JOIN LATERAL jsonb_array_elements(p.steps) s
            WHERE s->>'status' IN ('completed', 'failed') {UserFilter(userId, "AND", "p.")}
            GROUP BY 1 ORDER BY 1
            """);
        AddUser(command, userId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var steps = new List<StepFigures>();
        while (await reader.ReadAsync(cancellationToken))
        {
            steps.Add(new StepFigures(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2),
                reader.IsDBNull(3) ? null : Round(reader.GetDouble(3)), reader.IsDBNull(4) ? null : Round(reader.GetDouble(4))));
        }

        return [.. steps.OrderBy(s => Array.IndexOf(StepOrder, s.Step)).ThenBy(s => s.Step, StringComparer.Ordinal)];
    }

    private static readonly string[] StepOrder =
        [.. Enum.GetValues<MediaActors.Grains.Projects.ProjectStep>().Select(s => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(s.ToString()))];

    public static double Round(double seconds) => Math.Round(seconds, 2);

    private static string UserFilter(string? userId, string keyword, string prefix = "") => userId is null ? "" : $"{keyword} {prefix}user_id = $1";

    private static void AddUser(NpgsqlCommand command, string? userId)
    {
        if (userId is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        }
    }
}
