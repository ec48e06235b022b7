using System.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace MediaActors.Runtime.Bench;

/// <summary>
/// One throughput measurement: durable one-way messages processed per second. With repeats, the figures
/// are the median run's, and <see cref="Rates"/> holds every run's rate.
/// </summary>
public sealed record ThroughputResult(
    string Scenario,
    int Silos,
    int Messages,
    double Seconds,
    double MessagesPerSecond,
    double EnqueueSeconds,
    long Batches,
    double MessagesPerBatch,
    double MillisecondsPerBatch,
    double CpuProcessSeconds,
    double CpuPostgresSeconds)
{
    public double[] Rates { get; init; } = [];

    /// <summary>The median of several runs of one scenario (by rate), carrying all their rates.</summary>
    public static ThroughputResult Median(IReadOnlyList<ThroughputResult> runs)
    {
        var sorted = runs.OrderBy(r => r.MessagesPerSecond).ToList();
        return sorted[(sorted.Count - 1) / 2] with { Rates = [.. runs.Select(r => Math.Round(r.MessagesPerSecond))] };
    }
}

/// <summary>One request/response latency measurement (milliseconds).</summary>
public sealed record LatencyResult(
    string Scenario,
    int Callers,
    int Calls,
    double P50,
    double P99,
    double Mean,
    double Max,
    double CallsPerSecond);

/// <summary>The scenarios of the runtime benchmark; each runs on a fresh database.</summary>
public sealed class Scenarios(BenchOptions options, BatchStats stats)
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Live: the silos run while a client sends; timed from the first send until committed turn batches
    /// have acknowledged all N messages (the runtime's meter, then checked in the database).
    /// Drain: the messages are queued with no silo running, then the silos start; timed from their start.
    /// </summary>
    public async Task<ThroughputResult> ThroughputAsync(int silos, bool drain, int? messages = null)
    {
        var count = messages ?? options.Messages;
        var name = drain ? "drain" : "throughput";
        await using var database = await BenchDatabase.CreateAsync(options.Server, name);
        var client = await BenchCluster.StartClientAsync(database.ConnectionString);
        var hosts = new List<IHost> { client };
        try
        {
            if (!drain)
            {
                hosts.AddRange(await BenchCluster.StartSilosAsync(silos, database.ConnectionString, options.RuntimeSettings));
            }

            stats.Reset();
            var processed = stats.WaitForMessagesAsync(count, DrainTimeout);
            var cpu = CpuUsage.Start(database.Name);
            var stopwatch = Stopwatch.StartNew();
            await SendTicksAsync(client.Client(), count);
            var enqueueSeconds = stopwatch.Elapsed.TotalSeconds;
            if (drain)
            {
                if (await database.ScalarAsync("SELECT count(*) FROM runtime.messages") != count)
                {
                    throw new InvalidOperationException("Messages were processed although no silo runs.");
                }

                cpu = CpuUsage.Start(database.Name);
                stopwatch.Restart();
                hosts.AddRange(await BenchCluster.StartSilosAsync(silos, database.ConnectionString, options.RuntimeSettings));
            }

            await processed;
            var seconds = stopwatch.Elapsed.TotalSeconds;
            var (batches, perBatch, batchMs) = stats.Snapshot();
            var (cpuProcess, cpuPostgres) = cpu.Stop();

            // The database must agree with the in-process count: the mailboxes are empty...
            await database.WaitUntilDrainedAsync(TimeSpan.FromSeconds(10));

            // ...and exactly once: every Tick added one to a counter, nothing was dead-lettered.
            var total = await database.CounterSumAsync();
            var dead = await database.DeadLettersAsync();
            if (total != count || dead != 0)
            {
                throw new InvalidOperationException($"{name} with {silos} silo(s): counters sum to {total} (expected {count}), {dead} dead letters.");
            }

            return new ThroughputResult(name, silos, count, seconds, count / seconds, enqueueSeconds, batches, perBatch, batchMs, cpuProcess, cpuPostgres);
        }
        finally
        {
            await BenchCluster.StopAllAsync(hosts);
        }
    }

    /// <summary>Ping() round trips: client insert, NOTIFY, the silo's turn batch, reply NOTIFY.</summary>
    public async Task<LatencyResult> LatencyAsync(int callers, int calls)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Server, "latency");
        var client = await BenchCluster.StartClientAsync(database.ConnectionString);
        var hosts = new List<IHost> { client };
        try
        {
            hosts.AddRange(await BenchCluster.StartSilosAsync(1, database.ConnectionString, options.RuntimeSettings));
            var grains = Enumerable.Range(0, 64).Select(i => client.Client().GetGrain<INoopGrain>($"ping-{i}")).ToArray();
            for (var i = 0; i < options.Warmup; i++)
            {
                await grains[i % grains.Length].Ping();
            }

            var samples = new double[calls];
            var next = -1;
            var stopwatch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < calls)
                {
                    var started = Stopwatch.GetTimestamp();
                    await grains[i % grains.Length].Ping();
                    samples[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            }));
            var seconds = stopwatch.Elapsed.TotalSeconds;
            Array.Sort(samples);
            return new LatencyResult(
                callers == 1 ? "ping sequential" : "ping concurrent", callers, calls,
                Percentile(samples, 0.50), Percentile(samples, 0.99), samples.Average(), samples[^1], calls / seconds);
        }
        finally
        {
            await BenchCluster.StopAllAsync(hosts);
        }
    }

    /// <summary>Sends Tick() to <paramref name="count"/> keys round robin from <see cref="BenchOptions.Senders"/> concurrent senders; returns when all are stored.</summary>
    private async Task SendTicksAsync(IClusterClient client, int count)
    {
        var grains = Enumerable.Range(0, options.Keys).Select(i => client.GetGrain<INoopGrain>($"key-{i}")).ToArray();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Math.Min(options.Senders, count)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await grains[i % grains.Length].Tick();
            }
        }));
    }

    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    private static double Percentile(double[] sorted, double fraction) =>
        sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
}
