using System.Net;
using System.Net.Sockets;
using MediaActors.ServiceDefaults.Database;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Configuration;

namespace MediaActors.Orleans.Bench;

/// <summary>
/// One configuration under test: a fresh database (migrated by the project's SchemaMigrator, as a host does before
/// Orleans starts), N silo processes clustered through it, and an Orleans client in this process. Dispose stops
/// everything and drops the database.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private readonly string _server;
    private readonly string _databaseName;
    private readonly List<BenchSilo> _silos = [];
    private IHost? _client;

    private BenchCluster(string server, string databaseName, string connectionString)
    {
        _server = server;
        _databaseName = databaseName;
        Database = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 4 }.ConnectionString);
    }

    public IClusterClient Client => _client?.Services.GetRequiredService<IClusterClient>() ?? throw new InvalidOperationException("Not started.");

    public IEnumerable<int> SiloPids => _silos.Select(s => s.ProcessId);

    /// <summary>The bench's own connections to the database (counters, checks); the silos have theirs.</summary>
    public NpgsqlDataSource Database { get; }

    public int PostmasterPid { get; private set; }

    public static async Task<BenchCluster> StartAsync(string server, int siloCount, BenchVariant variant)
    {
        var name = $"obench_{Guid.NewGuid():N}"[..24];
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        await SchemaMigrator.EnsureDatabaseAsync(connectionString);
        var cluster = new BenchCluster(server, name, connectionString);
        try
        {
            await new SchemaMigrator(cluster.Database, [], NullLogger<SchemaMigrator>.Instance).MigrateAsync();
            cluster.PostmasterPid = await PgCounters.PostmasterPidAsync(cluster.Database);
            var clusterId = name;
            for (var i = 1; i <= siloCount; i++)
            {
                var settings = new Dictionary<string, string>
                {
                    ["ConnectionStrings:Postgres"] = variant.ConnectionString(connectionString),
                    ["Orleans:ClusterId"] = clusterId,
                    ["Orleans:ServiceId"] = "mediaactors-bench",
                    ["Orleans:SiloPort"] = FreePort().ToString(),
                    ["Orleans:GatewayPort"] = FreePort().ToString(),
                    ["Bench:SiloName"] = $"silo{i}",
                };
                cluster._silos.Add(await BenchSilo.StartAsync($"silo{i}", settings, variant.ServerGc));
            }

            cluster._client = await StartClientAsync(connectionString, clusterId, "mediaactors-bench");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.StopAsync();
            _client.Dispose();
        }

        await Task.WhenAll(_silos.Select(s => s.DisposeAsync().AsTask()));
        await Database.DisposeAsync();
        var builder = new NpgsqlConnectionStringBuilder(_server) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_databaseName}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>The client as an API host makes it: gateways found in the membership table.</summary>
    private static async Task<IHost> StartClientAsync(string connectionString, string clusterId, string serviceId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "bench-client" });
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(o => o.SingleLine = true);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = serviceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
