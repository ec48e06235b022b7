using Npgsql;

namespace MediaActors.Runtime;

/// <summary>A snapshot of the cluster for the dashboard: every figure is one query over the runtime's tables.</summary>
public sealed record ClusterStatus(
    IReadOnlyList<SiloRow> Silos,
    IReadOnlyList<CountRow> GrainsByType,
    IReadOnlyList<CountRow> MailboxByType,
    IReadOnlyList<WorkRow> WorkByKind,
    long RemindersDue,
    long RemindersTotal,
    IReadOnlyList<FailureRow> RecentFailures);

public sealed record SiloRow(string Id, string Name, string Host, int Pid, string Status, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt);

public sealed record CountRow(string Name, long Count);

public sealed record WorkRow(string Kind, string Status, long Count, double? AverageSeconds);

public sealed record FailureRow(DateTimeOffset At, string Source, string Subject, string Error);

/// <summary>Reads <see cref="ClusterStatus"/>.</summary>
public sealed class RuntimeStatus(NpgsqlDataSource dataSource)
{
    public async Task<ClusterStatus> ReadAsync(CancellationToken cancellationToken = default)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new("SELECT id, name, host, pid, status, started_at, heartbeat_at FROM runtime.silos ORDER BY status, name"));
        batch.BatchCommands.Add(new("SELECT grain_type, count(*) FROM runtime.grains GROUP BY 1 ORDER BY 1"));
        batch.BatchCommands.Add(new("SELECT grain_type, count(*) FROM runtime.messages GROUP BY 1 ORDER BY 1"));
        batch.BatchCommands.Add(new(
            """
            SELECT kind, status, count(*), avg(extract(epoch FROM finished_at - started_at))::float8
            FROM runtime.work_items GROUP BY 1, 2 ORDER BY 1, 2
            """));
        batch.BatchCommands.Add(new("SELECT count(*) FILTER (WHERE due_at <= now()), count(*) FROM runtime.reminders"));
        batch.BatchCommands.Add(new(
            """
            (SELECT a.finished_at, 'work', w.kind || ' ' || w.id::text, coalesce(a.error, a.outcome)
             FROM runtime.work_attempts a JOIN runtime.work_items w ON w.id = a.item_id
             WHERE a.outcome IS DISTINCT FROM 'succeeded' AND a.finished_at IS NOT NULL ORDER BY a.finished_at DESC LIMIT 20)
            UNION ALL
            (SELECT failed_at, 'message', grain_type || '/' || grain_key || '.' || method, coalesce(last_error, '')
             FROM runtime.dead_messages ORDER BY failed_at DESC LIMIT 20)
            ORDER BY 1 DESC LIMIT 20
            """));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var silos = new List<SiloRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            silos.Add(new SiloRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.GetFieldValue<DateTimeOffset>(6)));
        }

        var grains = await ReadCountsAsync(reader, cancellationToken);
        var mailbox = await ReadCountsAsync(reader, cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var work = new List<WorkRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            work.Add(new WorkRow(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetDouble(3)));
        }

        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (due, total) = (reader.GetInt64(0), reader.GetInt64(1));
        await reader.NextResultAsync(cancellationToken);
        var failures = new List<FailureRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            failures.Add(new FailureRow(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }

        return new ClusterStatus(silos, grains, mailbox, work, due, total, failures);
    }

    private static async Task<List<CountRow>> ReadCountsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        await reader.NextResultAsync(cancellationToken);
        var rows = new List<CountRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new CountRow(reader.GetString(0), reader.GetInt64(1)));
        }

        return rows;
    }
}
