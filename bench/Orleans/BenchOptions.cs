using Microsoft.Extensions.Configuration;
using Npgsql;

namespace MediaActors.Orleans.Bench;

/// <summary>What to run, from the command line (<c>--calls 20000 --silos 1,2</c>) and MA_BENCH_PG.</summary>
public sealed record BenchOptions
{
    public const string DefaultServer = "Host=127.0.0.1;Port=55437;Username=postgres";

    /// <summary>Connection string of the server; every configuration runs on its own fresh database there.</summary>
    public string Server { get; init; } = DefaultServer;

    /// <summary>Persisted calls per throughput run.</summary>
    public int Calls { get; init; } = 20_000;

    /// <summary>Concurrent senders of a throughput run.</summary>
    public int Senders { get; init; } = 1_000;

    /// <summary>Grains the calls are spread over (call i goes to grain i mod K).</summary>
    public int Keys { get; init; } = 1_000;

    /// <summary>Runs of each configuration; the median run is reported.</summary>
    public int Repeat { get; init; } = 3;

    /// <summary>Silo counts run with the production configuration (and the latency scenario).</summary>
    public int[] SiloCounts { get; init; } = [1, 2];

    /// <summary>A configuration measured like production (every silo count, <see cref="Repeat"/> runs), e.g. the recommended one.</summary>
    public BenchVariant? Tuned { get; init; }

    /// <summary>Other configurations (see <see cref="BenchVariant.Parse"/>), each run with <see cref="VariantSilos"/> silos.</summary>
    public BenchVariant[] Variants { get; init; } = [];

    public int VariantSilos { get; init; } = 2;

    /// <summary>Runs of each variant (they only need to be compared with each other and with production).</summary>
    public int VariantRepeat { get; init; } = 1;

    /// <summary>Sequential calls of the latency scenario, after <see cref="Warmup"/> unmeasured ones.</summary>
    public int Pings { get; init; } = 2_000;

    public int Warmup { get; init; } = 200;

    public string? JsonPath { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        var configuration = new ConfigurationBuilder().AddCommandLine(args).Build();
        var defaults = new BenchOptions();
        int Int(string key, int fallback)
        {
            var value = configuration[key];
            return value is null ? fallback : int.TryParse(value, out var n) && n > 0 ? n : throw new ArgumentException($"--{key} must be a positive integer, not '{value}'.");
        }

        string[] List(string key) =>
            configuration[key] is { } value ? value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];

        var server = configuration["pg"] ?? (Environment.GetEnvironmentVariable("MA_BENCH_PG") is { Length: > 0 } env ? env : DefaultServer);
        _ = new NpgsqlConnectionStringBuilder(server); // fails early on a malformed connection string
        return new BenchOptions
        {
            Server = server,
            Calls = Int("calls", defaults.Calls),
            Senders = Int("senders", defaults.Senders),
            Keys = Int("keys", defaults.Keys),
            Repeat = Int("repeat", defaults.Repeat),
            SiloCounts = configuration["silos"] is null ? defaults.SiloCounts : List("silos").Select(int.Parse).ToArray(),
            Tuned = configuration["tuned"] is { Length: > 0 } tuned ? BenchVariant.Parse(tuned) : null,
            Variants = List("variants").Select(BenchVariant.Parse).ToArray(),
            VariantSilos = Int("variant-silos", defaults.VariantSilos),
            VariantRepeat = Int("variant-repeat", defaults.VariantRepeat),
            Pings = Int("pings", defaults.Pings),
            Warmup = Int("warmup", defaults.Warmup),
            JsonPath = configuration["json"],
        };
    }
}

/// <summary>
/// One configuration of the silos, written as '+'-joined settings on top of production:
/// <c>production</c>, <c>pool=N</c> (Maximum Pool Size), <c>min-pool=N</c>, <c>no-reset</c> (No Reset On Close),
/// <c>auto-prepare[=N]</c> (Max Auto Prepare; production has 16), <c>unprepared</c> (Max Auto Prepare 0), <c>workstation-gc</c>, <c>binary-state</c>
/// (Orleans' binary storage serializer instead of JSON), <c>keys=N</c> (grains per run). Example: <c>pool=20+no-reset</c>.
/// </summary>
public sealed record BenchVariant(string Name)
{
    public static readonly BenchVariant Production = new("production");

    /// <summary>Npgsql settings appended to the silos' connection string.</summary>
    public Dictionary<string, string> ConnectionSettings { get; } = [];

    public bool ServerGc { get; private set; } = true;

    public bool BinaryState { get; private set; }

    public int? Keys { get; private set; }

    public static BenchVariant Parse(string spec)
    {
        var variant = new BenchVariant(spec);
        foreach (var part in spec.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (key, value) = part.Split('=', 2) is [var k, var v] ? (k, v) : (part, null);
            int Number() => int.TryParse(value, out var n) && n > 0 ? n : throw new ArgumentException($"'{part}' in variant '{spec}' needs a positive number.");
            switch (key)
            {
                case "production":
                    break;
                case "pool":
                    variant.ConnectionSettings["Maximum Pool Size"] = Number().ToString();
                    break;
                case "min-pool":
                    variant.ConnectionSettings["Minimum Pool Size"] = Number().ToString();
                    break;
                case "no-reset":
                    variant.ConnectionSettings["No Reset On Close"] = "true";
                    break;
                case "auto-prepare":
                    variant.ConnectionSettings["Max Auto Prepare"] = value is null ? "16" : Number().ToString();
                    break;
                case "unprepared":
                    // Production prepares the providers' statements (SiloSetup.ForOrleans); this is how it ran before.
                    variant.ConnectionSettings["Max Auto Prepare"] = "0";
                    break;
                case "workstation-gc":
                    variant.ServerGc = false;
                    break;
                case "binary-state":
                    variant.BinaryState = true;
                    break;
                case "keys":
                    variant.Keys = Number();
                    break;
                default:
                    throw new ArgumentException($"Unknown setting '{part}' in variant '{spec}' (see BenchVariant).");
            }
        }

        return variant;
    }

    public string ConnectionString(string database)
    {
        var builder = new NpgsqlConnectionStringBuilder(database);
        foreach (var (key, value) in ConnectionSettings)
        {
            builder[key] = value;
        }

        return builder.ConnectionString;
    }
}
