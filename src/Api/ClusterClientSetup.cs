using MediaActors.Grains;
using MediaActors.ServiceDefaults;
using MediaActors.ServiceDefaults.Database;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;

namespace MediaActors.Api;

/// <summary>How an API host reaches the silos: gateways found in the ADO.NET membership table, short call timeouts.</summary>
public static class ClusterClientSetup
{
    /// <summary>
    /// Makes this host an Orleans client that connects in the background: the host serves at once (health, validation,
    /// reads from the database) and grain calls answer 503 until a silo's gateway is reached.
    /// </summary>
    public static WebApplicationBuilder AddMediaActorsClusterClient(this WebApplicationBuilder builder)
    {
        var before = builder.Services.Where(d => d.ServiceType == typeof(IHostedService)).ToHashSet();
        builder.UseOrleansClient(client => client.UseMediaActorsCluster(builder.Configuration));
        // Orleans' client blocks the host's start until it has connected: start it from ClusterConnection instead.
        var clientServices = builder.Services.Where(d => d.ServiceType == typeof(IHostedService) && !before.Contains(d)).ToList();
        foreach (var descriptor in clientServices)
        {
            builder.Services.Remove(descriptor);
        }

        builder.Services.AddSingleton(sp => new ClusterConnection(clientServices.Select(d => Resolve(sp, d)).ToList(), sp.GetRequiredService<ILogger<ClusterConnection>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClusterConnection>());
        return builder;
    }

    private static IClientBuilder UseMediaActorsCluster(this IClientBuilder client, IConfiguration configuration)
    {
        var settings = ClusterSettings.From(configuration);
        var connectionString = DatabaseRegistration.PostgresConnectionString(configuration);
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = settings.ClusterId;
            o.ServiceId = settings.ServiceId;
        });
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = connectionString;
        });
        // A request to a dead silo fails fast (503) instead of waiting out Orleans' default 30 s.
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = settings.ClientResponseTimeout);
        // New and restarted silos are found within seconds.
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
        // No silo yet (or the database is still being migrated): keep trying to connect.
        client.UseConnectionRetryFilter(async (exception, cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            return true;
        });
        client.Services.AddSerializer(s => s.AddMediaActorsContracts());
        // The Orleans Dashboard served by this host (operators only, see Operator/OperatorEndpoints) asks the silos' dashboard grains.
        client.AddDashboard();
        return client;
    }

    private static IHostedService Resolve(IServiceProvider services, ServiceDescriptor descriptor) =>
        (IHostedService)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}

/// <summary>Starts the Orleans client in the background and says whether it is connected.</summary>
public sealed class ClusterConnection(IReadOnlyList<IHostedService> client, ILogger<ClusterConnection> logger) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _start = Task.CompletedTask;

    /// <summary>True once the client reached a gateway (Orleans reconnects by itself afterwards).</summary>
    public bool IsConnected => _connected.Task.IsCompletedSuccessfully;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _start = Task.Run(async () =>
        {
            try
            {
                foreach (var service in client)
                {
                    await service.StartAsync(_stopping.Token);
                }

                _connected.TrySetResult();
                logger.LogInformation("Connected to the Orleans cluster");
            }
            catch (Exception ex) when (_stopping.IsCancellationRequested)
            {
                logger.LogDebug(ex, "Stopped before the cluster was reached");
            }
            catch (Exception ex)
            {
                logger.LogCritical(ex, "The Orleans client failed to start; grain calls will answer 503");
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _start.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (IsConnected)
        {
            foreach (var service in client.Reverse())
            {
                await service.StopAsync(cancellationToken);
            }
        }
    }
}
