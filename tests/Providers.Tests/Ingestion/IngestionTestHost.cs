using System.Net;
using MediaActors.Providers.Ingestion;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Tests.Ingestion;

/// <summary>Ingestion wired exactly as the hosts wire it (AddIngestion over configuration), plus a scratch directory per download.</summary>
public sealed class IngestionTestHost : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"ingestion-tests-{Guid.NewGuid():N}");

    /// <param name="resolve">A DNS stand-in for the network guard (names only the tests know); the system resolver when null.</param>
    public IngestionTestHost(Dictionary<string, string?> settings, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        if (resolve is not null)
        {
            services.AddSingleton(provider => new NetworkGuard(provider.GetRequiredService<IOptions<IngestionOptions>>().Value, resolve));
        }

        _services = services
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .AddIngestion(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        Directory.CreateDirectory(_root);
    }

    /// <summary>Everything allowed, as the development and test configuration does.</summary>
    public static IngestionTestHost AllowingPrivateNetworks(long? maxBytes = null, string socketTimeout = "00:00:20")
    {
        var settings = new Dictionary<string, string?>
        {
            ["Ingestion:AllowPrivateNetworks"] = "true",
            ["Ingestion:SocketTimeout"] = socketTimeout,
        };
        if (maxBytes is { } limit)
        {
            settings["Ingestion:MaxDownloadBytes"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return new IngestionTestHost(settings);
    }

    /// <summary>The production policy with nothing private allowed.</summary>
    public static IngestionTestHost Production() => new(new());

    /// <summary>The production policy with exactly one private endpoint allowed (the "first hop" server).</summary>
    public static IngestionTestHost AllowingOnly(TestMediaServer server, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null) => new(new()
    {
        ["Ingestion:AllowedPrivateEndpoints:0"] = $"127.0.0.1:{server.Port}",
    }, resolve);

    public LinkDownloader Downloader => _services.GetRequiredService<LinkDownloader>();

    public T Get<T>()
        where T : notnull => _services.GetRequiredService<T>();

    public THandler Handler<THandler>()
        where THandler : IPlatformHandler => _services.GetServices<IPlatformHandler>().OfType<THandler>().Single();

    /// <summary>A new, not yet existing directory for one download (its name is unique, so tests can find their processes by it).</summary>
    public string NewTargetDirectory() => Path.Combine(_root, Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}

/// <summary>Records progress synchronously (Progress&lt;T&gt; would post to the thread pool and arrive late).</summary>
public sealed class RecordingProgress(Action<double>? onReport = null) : IProgress<double>
{
    private readonly List<double> _values = [];

    public IReadOnlyList<double> Values
    {
        get
        {
            lock (_values)
            {
                return _values.ToArray();
            }
        }
    }

    public void Report(double value)
    {
        lock (_values)
        {
            _values.Add(value);
        }

        onReport?.Invoke(value);
    }
}
