using System.Globalization;
using System.Text.Json;
using MediaActors.Orleans.Bench;

// Persisted grain calls/s of MediaActors' Orleans configuration (ADO.NET storage on PostgreSQL), the peer of
// bench/graphile/noop.mjs; bench/run.sh runs both and prints them side by side.
//
//   dotnet MediaActors.Orleans.Bench.dll [--pg "Host=127.0.0.1;Port=55437;Username=postgres"] [--calls 20000]
//       [--senders 1000] [--keys 1000] [--repeat 3] [--silos 1,2] [--pings 2000] [--json PATH]
//       [--tuned "pool=25+no-reset"] [--variants "pool=10,no-reset+auto-prepare,..."] [--variant-silos 2] [--variant-repeat 1]
//
// Each configuration (silo count x variant) runs on a fresh database with new silo processes, a warm-up run, then
// --repeat measured runs (the median is reported). Production (and --tuned) run at every --silos count, --variants at
// --variant-silos; production also measures sequential latency.
// "silo ..." as first argument makes this process one of the silos (see BenchSilo).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
if (args is ["silo", .. var siloArgs])
{
    return await BenchSilo.RunAsync(siloArgs);
}

var options = BenchOptions.Parse(args);
var measuredLikeProduction = options.Tuned is null ? [BenchVariant.Production] : new[] { BenchVariant.Production, options.Tuned };
var plan = options.SiloCounts.SelectMany(silos => measuredLikeProduction.Select(variant => (Silos: silos, Variant: variant, Repeat: options.Repeat)))
    .Concat(options.Variants.Select(v => (Silos: options.VariantSilos, Variant: v, Repeat: options.VariantRepeat)))
    .ToList();
var throughput = new List<ThroughputResult>();
var latency = new List<LatencyResult>();
foreach (var (silos, variant, repeat) in plan)
{
    var keys = variant.Keys ?? options.Keys;
    var label = $"{variant.Name}, {silos} silo{(silos > 1 ? "s" : "")}, {options.Calls} calls, {options.Senders} senders, {keys} grains";
    Progress($"starting {label}");
    await using var cluster = await BenchCluster.StartAsync(options.Server, silos, variant);
    // JIT, connection pools, first activations: not measured.
    await Scenarios.ThroughputAsync(cluster, "warmup", Math.Min(options.Calls, 5_000), options.Senders, keys, variant.BinaryState);
    if (variant == BenchVariant.Production)
    {
        foreach (var kind in new[] { "persisted", "ping" })
        {
            latency.Add(await Scenarios.LatencyAsync(cluster, silos, kind, options.Pings, options.Warmup));
            Progress($"  sequential {kind}: p50 {latency[^1].P50:0.00} ms, p99 {latency[^1].P99:0.00} ms");
        }
    }

    var runs = new List<ThroughputRun>();
    for (var run = 1; run <= repeat; run++)
    {
        runs.Add(await Scenarios.ThroughputAsync(cluster, $"run{run}", options.Calls, options.Senders, keys, variant.BinaryState));
        var r = runs[^1];
        Progress($"  run {run}/{repeat}: {r.CallsPerSecond:0} calls/s, CPU silos {r.Cpu.Silos:0.0} s, client {r.Cpu.Client:0.0} s, PostgreSQL {r.Cpu.Postgres:0.0} s, other {r.Cpu.Other:0.0} s; {r.Pg.Commits} commits, {r.Pg.WalSyncs} WAL syncs");
    }

    var median = runs.OrderBy(r => r.CallsPerSecond).ElementAt((runs.Count - 1) / 2);
    throughput.Add(new ThroughputResult(variant.Name, silos, keys, options.Senders, median, runs.Select(r => Math.Round(r.CallsPerSecond)).ToArray(), runs));
}

Console.WriteLine(Report.Markdown(throughput, latency));
if (options.JsonPath is { } path)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    var json = new
    {
        system = "Orleans 10.4.2, ADO.NET grain storage (JSON) on PostgreSQL",
        dotnet = Environment.Version.ToString(),
        settings = new { options.Calls, tuned = options.Tuned?.Name, variants = options.Variants.Select(v => v.Name), options.Senders, options.Keys, options.Repeat, options.SiloCounts, options.VariantSilos, options.VariantRepeat, options.Pings, siloProcesses = true },
        throughput,
        latency,
    };
    await File.WriteAllTextAsync(path, JsonSerializer.Serialize(json, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
    Progress($"results written to {path}");
}

return 0;

static void Progress(string text) => Console.Error.WriteLine($"[bench] {text}");
