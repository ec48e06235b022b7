using System.Diagnostics;

namespace MediaActors.Orleans.Bench;

/// <summary>One throughput run: what it achieved, and where the time went.</summary>
public sealed record ThroughputRun(
    int Calls,
    double Seconds,
    double CallsPerSecond,
    double MeanCallMs,
    double MeanWriteMs,
    CpuSplit Cpu,
    PgCounters Pg,
    int PgConnections);

/// <summary>Sequential calls to one grain: <c>persisted</c> (Record, one state write each) or <c>ping</c> (no write).</summary>
public sealed record LatencyResult(int Silos, string Kind, int Calls, double P50, double P99, double Mean, double MeanWriteMs, double CallsPerSecond);

public static class Scenarios
{
    /// <summary>
    /// S senders make N persisted calls in total (call i goes to grain i mod K), timed from the first call to the last
    /// completion. Every run uses new grains (its own key prefix), so each has the same activations and first inserts.
    /// </summary>
    public static async Task<ThroughputRun> ThroughputAsync(BenchCluster cluster, string prefix, int calls, int senders, int keys, bool binaryState)
    {
        var grains = Enumerable.Range(0, keys).Select(k => Grain(cluster, $"{prefix}-{k}", binaryState)).ToArray();
        var pgStart = await PgCounters.ReadAsync(cluster.Database);
        var cpuStart = CpuMark.Take(cluster.SiloPids, cluster.PostmasterPid);
        long callTicks = 0, writeTicks = 0;
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(senders, calls)).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < calls; i = Interlocked.Increment(ref next))
            {
                var callStarted = Stopwatch.GetTimestamp();
                var write = await grains[i % keys].Record(i);
                Interlocked.Add(ref writeTicks, write);
                Interlocked.Add(ref callTicks, Stopwatch.GetElapsedTime(callStarted).Ticks);
            }
        })));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpu = CpuMark.Take(cluster.SiloPids, cluster.PostmasterPid).Since(cpuStart);
        var connections = await ScalarAsync(cluster, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        // Every write bumped its row's version (an insert makes 1): the sum over the run's rows is the number of writes.
        var written = await ScalarAsync(cluster, $"SELECT coalesce(sum(version), 0) FROM orleans_storage WHERE grain_id_extension LIKE '{prefix}-%'");
        if (written != calls)
        {
            throw new InvalidOperationException($"{calls} calls answered but {written} state writes are in orleans_storage.");
        }

        // Backends publish their statistics at most once a second: wait for the run's to arrive.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var pg = (await PgCounters.ReadAsync(cluster.Database)).Since(pgStart);
        return new ThroughputRun(calls, seconds, calls / seconds, TimeSpan.FromTicks(callTicks).TotalMilliseconds / calls,
            TimeSpan.FromTicks(writeTicks).TotalMilliseconds / calls, cpu, pg, (int)connections);
    }

    /// <summary>Sequential calls to one grain, after <paramref name="warmup"/> unmeasured ones.</summary>
    public static async Task<LatencyResult> LatencyAsync(BenchCluster cluster, int silos, string kind, int calls, int warmup)
    {
        var grain = Grain(cluster, $"latency-{kind}", binaryState: false);
        Func<int, Task<long>> call = kind == "persisted" ? grain.Record : async i => await grain.Ping(i) * 0L;
        for (var i = 0; i < warmup; i++)
        {
            await call(i);
        }

        var samples = new double[calls];
        long writeTicks = 0;
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls; i++)
        {
            var callStarted = Stopwatch.GetTimestamp();
            writeTicks += await call(i);
            samples[i] = Stopwatch.GetElapsedTime(callStarted).TotalMilliseconds;
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Array.Sort(samples);
        double Percentile(double p) => samples[Math.Min(calls - 1, (int)Math.Ceiling(p * calls) - 1)];
        return new LatencyResult(silos, kind, calls, Percentile(0.50), Percentile(0.99), samples.Average(),
            TimeSpan.FromTicks(writeTicks).TotalMilliseconds / calls, calls / seconds);
    }

    private static IBenchGrain Grain(BenchCluster cluster, string key, bool binaryState) =>
        binaryState ? cluster.Client.GetGrain<IBinaryBenchGrain>(key) : cluster.Client.GetGrain<IJsonBenchGrain>(key);

    private static async Task<long> ScalarAsync(BenchCluster cluster, string sql)
    {
        await using var command = cluster.Database.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
