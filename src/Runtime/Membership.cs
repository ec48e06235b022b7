using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Runtime;

/// <summary>This silo's identity: its configured name and a unique id per start.</summary>
public sealed class SiloIdentity(IOptions<RuntimeOptions> options)
{
    public string Name { get; } = options.Value.SiloName;

    public string Id { get; } = $"{options.Value.SiloName}#{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
}

/// <summary>
/// Registers the silo, writes its heartbeat, declares silent silos dead, hands their expired work
/// leases back to the queue, and keeps the reply table and the mailbox-depth gauge current.
/// </summary>
public sealed class MembershipService(
    NpgsqlDataSource dataSource,
    SiloIdentity silo,
    RuntimeMetrics metrics,
    IOptions<RuntimeOptions> options,
    ILogger<MembershipService> logger) : BackgroundService
{
    private readonly RuntimeOptions _options = options.Value;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO runtime.silos (id, name, host, pid, status) VALUES ($1, $2, $3, $4, 'active')
            ON CONFLICT (id) DO UPDATE SET status = 'active', heartbeat_at = now()
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Environment.MachineName });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Environment.ProcessId });
        await command.ExecuteNonQueryAsync(cancellationToken);
        logger.LogInformation("Silo {SiloId} joined", silo.Id);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var command = dataSource.CreateCommand("UPDATE runtime.silos SET status = 'stopped', stopped_at = now() WHERE id = $1");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Id });
            await command.ExecuteNonQueryAsync(CancellationToken.None);
            logger.LogInformation("Silo {SiloId} left", silo.Id);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not mark silo {SiloId} stopped", silo.Id);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval);
        try
        {
            do
            {
                try
                {
                    await TickAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Membership heartbeat failed");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One heartbeat and sweep; every statement is idempotent, so any number of silos may run it.</summary>
    internal async Task TickAsync(CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("UPDATE runtime.silos SET heartbeat_at = now(), status = CASE WHEN status = 'dead' THEN 'active' ELSE status END WHERE id = $1", silo.Id));
        batch.BatchCommands.Add(Command(
            "UPDATE runtime.silos SET status = 'dead' WHERE status IN ('active', 'stopping') AND heartbeat_at < now() - $1 * interval '1 millisecond'",
            (long)_options.SiloDeadAfter.TotalMilliseconds));
        // Leases of dead or stopped silos, and leases past their expiry, go back to the queue (or fail after the last attempt).
        batch.BatchCommands.Add(Command(
            """
            WITH expired AS (
                SELECT w.id FROM runtime.work_items w
                WHERE w.status = 'running'
                  AND (w.lease_expires_at < now()
                       OR EXISTS (SELECT 1 FROM runtime.silos s WHERE s.id = w.lease_owner AND s.status IN ('dead', 'stopped')))
                FOR UPDATE SKIP LOCKED),
            attempts AS (
                UPDATE runtime.work_attempts a SET finished_at = now(), outcome = 'lease_expired',
                       error = 'The silo running it stopped answering (lease expired).'
                FROM runtime.work_items w
                WHERE w.id IN (SELECT id FROM expired) AND a.item_id = w.id AND a.attempt = w.attempts AND a.finished_at IS NULL),
            requeued AS (
                UPDATE runtime.work_items w SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, due_at = now(),
                       last_error = 'lease expired on ' || coalesce(w.lease_owner, '?')
                WHERE w.id IN (SELECT id FROM expired) AND w.attempts < w.max_attempts AND NOT w.cancel_requested
                RETURNING w.kind),
            failed AS (
                UPDATE runtime.work_items w SET status = CASE WHEN w.cancel_requested THEN 'cancelled' ELSE 'failed' END,
                       lease_owner = NULL, lease_expires_at = NULL, finished_at = now(),
                       last_error = CASE WHEN w.cancel_requested THEN 'cancelled' ELSE 'lease expired after ' || w.attempts || ' attempts' END
                WHERE w.id IN (SELECT id FROM expired) AND (w.attempts >= w.max_attempts OR w.cancel_requested)
                RETURNING w.*),
            results AS (
                INSERT INTO runtime.messages (grain_type, grain_key, method, args, sender)
                SELECT f.owner_type, f.owner_key, '__work',
                       jsonb_build_array(jsonb_build_object('itemId', f.id, 'kind', f.kind, 'tag', f.tag, 'status', f.status,
                                                            'output', NULL, 'error', f.last_error, 'attempts', f.attempts,
                                                            'retryable', f.status = 'failed')), 'membership'
                FROM failed f
                RETURNING 1)
            SELECT pg_notify('ma_work', k) FROM (SELECT DISTINCT kind AS k FROM requeued) AS kinds
            UNION ALL SELECT pg_notify('ma_mailbox', '') WHERE EXISTS (SELECT 1 FROM results)
            """));
        batch.BatchCommands.Add(Command("DELETE FROM runtime.replies WHERE created_at < now() - $1 * interval '1 millisecond'", (long)_options.ReplyRetention.TotalMilliseconds));
        batch.BatchCommands.Add(Command("DELETE FROM runtime.silos WHERE status IN ('dead', 'stopped') AND heartbeat_at < now() - interval '1 day'"));
        batch.BatchCommands.Add(Command("SELECT count(*) FROM runtime.messages"));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        do
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.FieldCount == 1 && reader.GetFieldType(0) == typeof(long) && reader.GetName(0) == "count")
                {
                    metrics.MailboxDepth = reader.GetInt64(0);
                }
            }
        }
        while (await reader.NextResultAsync(cancellationToken));
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return command;
    }
}
