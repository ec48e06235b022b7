using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Grains.Maintenance;

/// <summary>How long project events are kept (section "Events").</summary>
public sealed class EventOptions
{
    /// <summary>Events older than this are deleted (what GET .../events?after=N can still return); zero keeps them forever.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often one silo deletes what is past its retention; zero turns retention off.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>Deletes old project events in batches; an advisory lock lets one silo at a time do it.</summary>
public sealed class EventRetentionService(NpgsqlDataSource dataSource, IOptions<EventOptions> options, ILogger<EventRetentionService> logger)
    : PeriodicService(logger)
{
    private const long LockKey = 0x4D41_4556_454E_5453; // "MAEVENTS"
    private const int BatchSize = 5000;
    private const int MaxBatches = 200;

    private readonly EventOptions _options = options.Value;

    protected override TimeSpan Interval => _options.Retention <= TimeSpan.Zero ? TimeSpan.Zero : _options.RetentionInterval;

    protected override string JobName => "Event retention";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>Deletes events past their retention; returns how many, or -1 when another silo holds the lock.</summary>
    public Task<long> SweepAsync(CancellationToken cancellationToken) =>
        AdvisoryLock.TryRunAsync(dataSource, LockKey, async connection =>
        {
            var total = await AdvisoryLock.DeleteInBatchesAsync(connection,
                """
                DELETE FROM project_events WHERE (project_id, seq) IN (
                    SELECT project_id, seq FROM project_events WHERE created_at < now() - $1 * interval '1 millisecond' LIMIT $2)
                """, [new NpgsqlParameter<long> { TypedValue = (long)_options.Retention.TotalMilliseconds }], BatchSize, MaxBatches, cancellationToken);
            if (total > 0)
            {
                logger.LogInformation("Event retention deleted {Events} events older than {Retention}", total, _options.Retention);
            }

            return total;
        }, cancellationToken);
}
