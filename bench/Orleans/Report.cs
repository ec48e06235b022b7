using System.Globalization;

namespace MediaActors.Orleans.Bench;

/// <summary>A configuration's median run, and every run's rate.</summary>
public sealed record ThroughputResult(string Variant, int Silos, int Keys, int Senders, ThroughputRun Median, double[] Rates, IReadOnlyList<ThroughputRun> Runs);

public static class Report
{
    public static string Markdown(IReadOnlyList<ThroughputResult> throughput, IReadOnlyList<LatencyResult> latency)
    {
        var lines = new List<string>
        {
            "| configuration | silos | grains | calls/s (median) | all runs | mean call ms | mean write ms | PG commits/s | calls per WAL flush | CPU ms per call: silos / PostgreSQL | CPU s: silos / client / PostgreSQL / other | PG connections |",
            "|---|---:|---:|---:|---|---:|---:|---:|---:|---|---|---:|",
        };
        foreach (var t in throughput)
        {
            var r = t.Median;
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {t.Variant} | {t.Silos} | {t.Keys} | {r.CallsPerSecond:0} | {string.Join(", ", t.Rates)} | {r.MeanCallMs:0.0} | {r.MeanWriteMs:0.0} | " +
                $"{r.Pg.Commits / r.Seconds:0} | {(r.Pg.WalSyncs == 0 ? 0 : (double)r.Calls / r.Pg.WalSyncs):0.0} | " +
                $"{1000 * r.Cpu.Silos / r.Calls:0.00} / {1000 * r.Cpu.Postgres / r.Calls:0.00} | " +
                $"{r.Cpu.Silos:0.0} / {r.Cpu.Client:0.0} / {r.Cpu.Postgres:0.0} / {r.Cpu.Other:0.0} (of {r.Seconds * r.Cpu.Cores:0.0}) | {r.PgConnections} |"));
        }

        if (latency.Count > 0)
        {
            lines.Add("");
            lines.Add("| sequential calls to one grain | silos | calls | p50 ms | p99 ms | mean ms | of which WriteStateAsync ms | calls/s |");
            lines.Add("|---|---:|---:|---:|---:|---:|---:|---:|");
            lines.AddRange(latency.Select(l => string.Create(CultureInfo.InvariantCulture,
                $"| {(l.Kind == "persisted" ? "persisted (state written)" : "not persisted (ping)")} | {l.Silos} | {l.Calls} | {l.P50:0.00} | {l.P99:0.00} | {l.Mean:0.00} | {l.MeanWriteMs:0.00} | {l.CallsPerSecond:0} |")));
        }

        return string.Join('\n', lines);
    }
}
