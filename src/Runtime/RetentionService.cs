using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Runtime;

/// <summary>What one retention sweep deleted; <see cref="Swept"/> is false when another silo was sweeping.</summary>
public sealed record RetentionResult(bool Swept, long WorkItems, long Events, long DeadMessages);

/// <summary>
/// Keeps the runtime's append-mostly tables bounded: finished work items (with their attempts), events and dead
/// messages older than their retention (<see cref="RuntimeOptions"/>) are deleted in batches, by one silo at a time
/// (a session advisory lock), every <see cref="RuntimeOptions.RetentionInterval"/>. Nothing that is still needed is
/// touched: pending and running work, grain state, mailboxes and reminders are not retained by age, and a grain's
/// event sequence lives in its state row, so deleting old events never reuses a sequence number.
/// </summary>
public sealed class RetentionService(NpgsqlDataSource dataSource, IOptions<RuntimeOptions> options, ILogger<RetentionService> logger)
    : PeriodicService(logger)
{
    private const long LockKey = 0x4D41_5245_5441_494E; // "MARETAIN"
    private const int BatchSize = 5000;
    private const int MaxBatchesPerTable = 200;

    private readonly RuntimeOptions _options = options.Value;

    protected override TimeSpan Interval => _options.RetentionInterval;

    protected override string JobName => "Retention sweep";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>Runs one sweep now (also what the timer runs).</summary>
    public async Task<RetentionResult> SweepAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection))
        {
            if (await tryLock.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return new RetentionResult(false, 0, 0, 0);
            }
        }

        try
        {
            var work = await DeleteAsync(connection, _options.FinishedWorkRetention,
                """
                DELETE FROM runtime.work_items WHERE id IN (
                    SELECT id FROM runtime.work_items
                    WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at < now() - $1 * interval '1 millisecond'
                    LIMIT $2)
                """, cancellationToken);
            var events = await DeleteAsync(connection, _options.EventRetention,
                "DELETE FROM runtime.events WHERE id IN (SELECT id FROM runtime.events WHERE created_at < now() - $1 * interval '1 millisecond' LIMIT $2)",
                cancellationToken);
            var dead = await DeleteAsync(connection, _options.DeadMessageRetention,
                "DELETE FROM runtime.dead_messages WHERE id IN (SELECT id FROM runtime.dead_messages WHERE failed_at < now() - $1 * interval '1 millisecond' LIMIT $2)",
                cancellationToken);
            if (work + events + dead > 0)
            {
                logger.LogInformation("Retention deleted {WorkItems} finished work items, {Events} events and {DeadMessages} dead messages", work, events, dead);
            }

            return new RetentionResult(true, work, events, dead);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>Deletes in batches (short transactions, no long lock on the table) until a batch comes back short.</summary>
    private static async Task<long> DeleteAsync(NpgsqlConnection connection, TimeSpan retention, string sql, CancellationToken cancellationToken)
    {
        if (retention <= TimeSpan.Zero)
        {
            return 0;
        }

        long total = 0;
        for (var batch = 0; batch < MaxBatchesPerTable; batch++)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)retention.TotalMilliseconds });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BatchSize });
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
            if (deleted < BatchSize)
            {
                break;
            }
        }

        return total;
    }
}
