using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MediaActors.Runtime.Bench;

/// <summary>Silos and clients as in-process hosts (like tests/Runtime.Tests/Cluster.cs): each host has its own data source and connections.</summary>
public static class BenchCluster
{
    public static async Task<IHost> StartSiloAsync(string connectionString, string name, IReadOnlyDictionary<string, string?> runtimeSettings)
    {
        var builder = CreateBuilder(connectionString, name, runtimeSettings);
        builder.Services.AddSilo(builder.Configuration).AddGrain<INoopGrain, NoopGrain>();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>Starts <paramref name="count"/> silos at the same moment, so none gets a head start on a full mailbox.</summary>
    public static async Task<IHost[]> StartSilosAsync(int count, string connectionString, IReadOnlyDictionary<string, string?> runtimeSettings) =>
        await Task.WhenAll(Enumerable.Range(1, count).Select(i => StartSiloAsync(connectionString, $"bench-silo-{i}", runtimeSettings)));

    /// <summary>A client-only host (applies the schema on start); returns once it listens for replies.</summary>
    public static async Task<IHost> StartClientAsync(string connectionString)
    {
        var builder = CreateBuilder(connectionString, "bench-client", new Dictionary<string, string?>());
        builder.Services.AddActorClient(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<NotificationListener>().Listening;
        return host;
    }

    public static IClusterClient Client(this IHost host) => host.Services.GetRequiredService<IClusterClient>();

    public static async Task StopAllAsync(IEnumerable<IHost> hosts) =>
        await Task.WhenAll(hosts.Select(async host =>
        {
            await host.StopAsync(TimeSpan.FromSeconds(30));
            host.Dispose();
        }));

    private static HostApplicationBuilder CreateBuilder(string connectionString, string name, IReadOnlyDictionary<string, string?> runtimeSettings)
    {
        var settings = new Dictionary<string, string?>(runtimeSettings)
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["Runtime:SiloName"] = name,
        };
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        return builder;
    }
}
