using Microsoft.Extensions.Configuration;

namespace MediaActors.Runtime.Bench;

/// <summary>What to run, from the command line (<c>--messages 20000</c>) and MA_BENCH_PG; <c>--Runtime:Key value</c> goes to the silos.</summary>
public sealed record BenchOptions
{
    public const string DefaultServer = "Host=127.0.0.1;Port=55433;Username=postgres";

    /// <summary>Connection string of the server; every scenario creates (and drops) its own database there.</summary>
    public string Server { get; init; } = DefaultServer;

    /// <summary>Durable one-way messages per throughput scenario.</summary>
    public int Messages { get; init; } = 20_000;

    /// <summary>How many grains the messages are spread over.</summary>
    public int Keys { get; init; } = 1_000;

    /// <summary>Concurrent senders in the throughput scenarios (the client group-commits their sends, so this sets its batch size).</summary>
    public int Senders { get; init; } = 1_000;

    /// <summary>Runs of each throughput scenario; the median run is reported.</summary>
    public int Repeat { get; init; } = 3;

    /// <summary>Sequential Ping() calls measured, after <see cref="Warmup"/> unmeasured ones.</summary>
    public int Pings { get; init; } = 2_000;

    public int Warmup { get; init; } = 200;

    /// <summary>Concurrent callers of the concurrent latency scenario, and the calls they make in total.</summary>
    public int Callers { get; init; } = 16;

    public int ConcurrentCalls { get; init; } = 8_000;

    /// <summary>Silo counts of the throughput scenarios.</summary>
    public int[] SiloCounts { get; init; } = [1, 2];

    /// <summary>Scenario groups to run: throughput, drain, latency.</summary>
    public string[] Scenarios { get; init; } = ["throughput", "drain", "latency"];

    /// <summary>Where the JSON results go (none if empty).</summary>
    public string? JsonPath { get; init; }

    /// <summary>"Runtime:*" settings given to every silo (e.g. Runtime:TurnConcurrency).</summary>
    public IReadOnlyDictionary<string, string?> RuntimeSettings { get; init; } = new Dictionary<string, string?>();

    public static BenchOptions Parse(string[] args)
    {
        var configuration = new ConfigurationBuilder().AddCommandLine(args).Build();
        var defaults = new BenchOptions();
        int Int(string key, int fallback)
        {
            var value = configuration[key];
            return value is null ? fallback : int.TryParse(value, out var n) && n > 0 ? n : throw new ArgumentException($"--{key} must be a positive integer, not '{value}'.");
        }

        string[] List(string key, string[] fallback) =>
            configuration[key] is { } value ? value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : fallback;

        var runtime = configuration.GetSection("Runtime").AsEnumerable()
            .Where(pair => pair.Value is not null)
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .ToDictionary(pair => pair.Key, pair => pair.Value);
        var options = new BenchOptions
        {
            Server = configuration["pg"] ?? (Environment.GetEnvironmentVariable("MA_BENCH_PG") is { Length: > 0 } env ? env : DefaultServer),
            Messages = Int("messages", defaults.Messages),
            Keys = Int("keys", defaults.Keys),
            Senders = Int("senders", defaults.Senders),
            Repeat = Int("repeat", defaults.Repeat),
            Pings = Int("pings", defaults.Pings),
            Warmup = Int("warmup", defaults.Warmup),
            Callers = Int("callers", defaults.Callers),
            ConcurrentCalls = Int("concurrent-calls", defaults.ConcurrentCalls),
            SiloCounts = List("silos", ["1", "2"]).Select(int.Parse).ToArray(),
            Scenarios = List("scenarios", defaults.Scenarios),
            JsonPath = configuration["json"],
            RuntimeSettings = runtime,
        };
        var unknown = options.Scenarios.Except(defaults.Scenarios).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown scenario(s) {string.Join(", ", unknown)}; known: {string.Join(", ", defaults.Scenarios)}.");
        }

        return options;
    }
}
