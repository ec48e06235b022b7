using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MediaActors.Grains.Maintenance;

/// <summary>
/// A background job that runs every <see cref="Interval"/> (zero or less: never), first shortly after start; a failed
/// run is logged and tried again at the next tick. Used for event retention and upload expiry.
/// </summary>
public abstract class PeriodicService(ILogger logger) : BackgroundService
{
    private static readonly TimeSpan MaxInterval = TimeSpan.FromDays(30);

    /// <summary>The time between two runs.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>What the log says failed.</summary>
    protected abstract string JobName { get; }

    /// <summary>One run.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = Interval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        if (interval > MaxInterval)
        {
            // PeriodicTimer takes at most ~49 days; a longer setting means "rarely", not "crash the host".
            logger.LogWarning("{Job}: interval {Interval} is longer than {Max}; running at that interval instead", JobName, interval, MaxInterval);
            interval = MaxInterval;
        }

        // Not every host at the same moment after a cluster restart.
        var firstDelay = TimeSpan.FromMilliseconds(Math.Min(interval.TotalMilliseconds, Random.Shared.Next(1000, 5000)));
        await Task.Delay(firstDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using var timer = new PeriodicTimer(interval);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "{Job} failed; trying again in {Interval}", JobName, interval);
            }

            try
            {
                if (!await timer.WaitForNextTickAsync(stoppingToken))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
