using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using MediaActors.Runtime.Bench;

// The runtime benchmark of issue 2: durable one-way throughput (live and drain, 1 and 2 silos) and Ping() latency.
// Usage: Runtime.Bench [--pg CONNSTR] [--messages N] [--keys K] [--senders S] [--pings P] [--warmup W]
//        [--callers C] [--concurrent-calls M] [--silos 1,2] [--scenarios throughput,drain,latency] [--repeat R] [--json PATH]
//        [--Runtime:TurnConcurrency 4 ...]   (any Runtime:* setting is given to every silo)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

using var stats = new BatchStats();
var scenarios = new Scenarios(options, stats);
var throughput = new List<ThroughputResult>();
var latency = new List<LatencyResult>();
void Progress(string text) => Console.Error.WriteLine($"[bench] {text}");

try
{
    // JIT and connection warm-up on a throwaway database; not reported.
    Progress("warm-up");
    await scenarios.ThroughputAsync(1, drain: false, messages: Math.Min(options.Messages, 2_000));

    foreach (var drain in new[] { false, true })
    {
        if (!options.Scenarios.Contains(drain ? "drain" : "throughput"))
        {
            continue;
        }

        foreach (var silos in options.SiloCounts)
        {
            var runs = new List<ThroughputResult>();
            for (var run = 1; run <= options.Repeat; run++)
            {
                Progress($"{(drain ? "drain" : "throughput")}, {silos} silo(s), {options.Messages} messages, run {run}/{options.Repeat}");
                runs.Add(await scenarios.ThroughputAsync(silos, drain));
                Progress($"  {runs[^1].MessagesPerSecond:0} msg/s");
            }

            throughput.Add(ThroughputResult.Median(runs));
        }
    }

    if (options.Scenarios.Contains("latency"))
    {
        Progress($"latency, {options.Pings} sequential pings");
        latency.Add(await scenarios.LatencyAsync(1, options.Pings));
        Progress($"latency, {options.Callers} concurrent callers, {options.ConcurrentCalls} pings");
        latency.Add(await scenarios.LatencyAsync(options.Callers, options.ConcurrentCalls));
    }
}
catch (Exception ex)
{
    Console.Error.WriteLine($"BENCHMARK FAILED: {ex}");
    return 1;
}

var report = new
{
    system = "MediaActors runtime",
    machine = new
    {
        cores = Environment.ProcessorCount,
        os = RuntimeInformation.OSDescription,
        dotnet = RuntimeInformation.FrameworkDescription,
    },
    settings = new
    {
        options.Messages,
        options.Keys,
        options.Senders,
        options.Repeat,
        options.Pings,
        options.Warmup,
        options.Callers,
        options.ConcurrentCalls,
        runtime = options.RuntimeSettings,
    },
    throughput,
    latency,
};

Console.WriteLine(Markdown(throughput, latency));
if (!string.IsNullOrEmpty(options.JsonPath))
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.JsonPath))!);
    await File.WriteAllTextAsync(options.JsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
    Progress($"results written to {options.JsonPath}");
}

return 0;

static string Markdown(List<ThroughputResult> throughput, List<LatencyResult> latency)
{
    var text = new StringBuilder();
    if (throughput.Count > 0)
    {
        text.AppendLine("| scenario | silos | messages | seconds | msg/s (median) | all runs msg/s | enqueue s | batches | msg/batch | ms/batch | CPU s .NET | CPU s PostgreSQL |");
        text.AppendLine("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in throughput)
        {
            text.AppendLine($"| {r.Scenario} | {r.Silos} | {r.Messages} | {r.Seconds:0.00} | {r.MessagesPerSecond:0} | {string.Join(", ", r.Rates)} | {r.EnqueueSeconds:0.00} | {r.Batches} | {r.MessagesPerBatch:0.0} | {r.MillisecondsPerBatch:0.0} | {r.CpuProcessSeconds:0.00} | {r.CpuPostgresSeconds:0.00} |");
        }

        text.AppendLine();
    }

    if (latency.Count > 0)
    {
        text.AppendLine("| scenario | callers | calls | p50 ms | p99 ms | mean ms | max ms | calls/s |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in latency)
        {
            text.AppendLine($"| {r.Scenario} | {r.Callers} | {r.Calls} | {r.P50:0.00} | {r.P99:0.00} | {r.Mean:0.00} | {r.Max:0.0} | {r.CallsPerSecond:0} |");
        }
    }

    return text.ToString();
}
