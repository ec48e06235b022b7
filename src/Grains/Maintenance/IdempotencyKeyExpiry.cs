using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Grains.Maintenance;

/// <summary>How often the silos delete expired Idempotency-Keys (section "Idempotency"; the API hosts read the rest of it).</summary>
public sealed class IdempotencyKeyExpiryOptions
{
    /// <summary>How often one silo deletes the keys past their lifetime; zero turns it off (expired keys are ignored all the same).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Deletes the rows of <c>idempotency_keys</c> past their lifetime, in batches; an advisory lock lets one silo at a time do
/// it. The API hosts treat such rows as absent already (a new request with the key replaces one), so this only frees space.
/// </summary>
public sealed class IdempotencyKeyExpiryService(NpgsqlDataSource dataSource, IOptions<IdempotencyKeyExpiryOptions> options,
    ILogger<IdempotencyKeyExpiryService> logger) : PeriodicService(logger)
{
    private const long LockKey = 0x4D41_4944_454D_504F; // "MAIDEMPO"
    private const int BatchSize = 5000;
    private const int MaxBatches = 200;

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override string JobName => "Idempotency key expiry";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>Deletes the expired keys; returns how many, or -1 when another silo holds the lock.</summary>
    public Task<long> SweepAsync(CancellationToken cancellationToken) =>
        AdvisoryLock.TryRunAsync(dataSource, LockKey, async connection =>
        {
            // expires_at is checked again on the row deleted: one a new request just claimed anew (replaced) stays.
            var total = await AdvisoryLock.DeleteInBatchesAsync(connection,
                """
                DELETE FROM idempotency_keys WHERE expires_at <= now() AND (user_id, key) IN (
                    SELECT user_id, key FROM idempotency_keys WHERE expires_at <= now() LIMIT $1)
                """, [], BatchSize, MaxBatches, cancellationToken);
            if (total > 0)
            {
                logger.LogInformation("Deleted {Keys} expired idempotency keys", total);
            }

            return total;
        }, cancellationToken);
}
