using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Runtime;

/// <summary>Turns due reminders into messages: one-shot reminders are removed, periodic ones move to their next due time.</summary>
public sealed class ReminderService(
    NpgsqlDataSource dataSource,
    NotificationListener listener,
    GrainCatalog catalog,
    IOptions<RuntimeOptions> options,
    ILogger<ReminderService> logger) : BackgroundService
{
    private readonly WakeSignal _wake = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (catalog.Registrations.Count == 0)
        {
            return;
        }

        using var subscription = listener.On(Channels.Reminders, _ => _wake.Set());
        while (!stoppingToken.IsCancellationRequested)
        {
            var token = _wake.Token;
            var wait = options.Value.PollInterval;
            try
            {
                var untilNext = await FireDueAsync(stoppingToken);
                if (untilNext is { } next && next < wait)
                {
                    wait = next < TimeSpan.Zero ? TimeSpan.Zero : next;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Firing reminders failed");
            }

            await WakeSignal.WaitAsync(token, wait, stoppingToken);
        }
    }

    /// <summary>Fires what is due; returns the time until the next reminder, if any.</summary>
    private async Task<TimeSpan?> FireDueAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            WITH due AS (
                SELECT grain_type, grain_key, name, period_ms FROM runtime.reminders
                WHERE due_at <= now() AND grain_type = ANY($1)
                ORDER BY due_at LIMIT 1000
                FOR UPDATE SKIP LOCKED),
            sent AS (
                INSERT INTO runtime.messages (grain_type, grain_key, method, args, sender)
                SELECT grain_type, grain_key, '__reminder', jsonb_build_array(name), 'reminders' FROM due
                RETURNING 1),
            removed AS (
                DELETE FROM runtime.reminders r USING due d
                WHERE d.period_ms IS NULL AND r.grain_type = d.grain_type AND r.grain_key = d.grain_key AND r.name = d.name),
            moved AS (
                UPDATE runtime.reminders r
                SET due_at = greatest(r.due_at + d.period_ms * interval '1 millisecond', now())
                FROM due d
                WHERE d.period_ms IS NOT NULL AND r.grain_type = d.grain_type AND r.grain_key = d.grain_key AND r.name = d.name)
            SELECT (SELECT count(*) FROM sent),
                   (SELECT pg_notify('ma_mailbox', '') WHERE EXISTS (SELECT 1 FROM sent)) IS NULL,
                   (SELECT extract(epoch FROM min(due_at) - now()) * 1000 FROM runtime.reminders WHERE grain_type = ANY($1) AND due_at > now())
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = catalog.TypeNames });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var fired = reader.GetInt64(0);
        if (fired > 0)
        {
            logger.LogDebug("Fired {Count} reminders", fired);
        }

        // The snapshot predates this statement's own updates, so a periodic reminder just moved is picked up at the next poll.
        return reader.IsDBNull(2) ? null : TimeSpan.FromMilliseconds((double)reader.GetDecimal(2));
    }
}
