using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace MediaActors.Runtime;

/// <summary>Registers the runtime: <see cref="AddActorClient"/> for any host, <see cref="AddSilo"/> for hosts that run grains and workers.</summary>
public static class RuntimeHosting
{
    /// <summary>The grain client, the event feed, the schema migrator and the notification listener.</summary>
    public static IServiceCollection AddActorClient(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(ClusterClient)))
        {
            return services;
        }

        var connectionString = configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set (environment variable ConnectionStrings__Postgres).");
        services.AddOptions<RuntimeOptions>().Bind(configuration.GetSection("Runtime"));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { Name = "runtime" }.Build());
        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton<RuntimeStatus>();
        services.AddSingleton<RuntimeMetrics>();
        services.AddSingleton<NotificationListener>();
        services.AddSingleton(new ListenChannels(Channels.Client));
        services.AddSingleton<GrainEvents>();
        services.AddSingleton<IGrainEvents>(sp => sp.GetRequiredService<GrainEvents>());
        services.AddSingleton<ClusterClient>();
        services.AddSingleton<IClusterClient>(sp => sp.GetRequiredService<ClusterClient>());
        services.AddSingleton<IGrainFactory>(sp => sp.GetRequiredService<ClusterClient>());
        services.AddSingleton(new DatabaseStartup(connectionString));
        // Start order matters: schema first, then the listener, then the client.
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseStartup>().Bind(sp.GetRequiredService<SchemaMigrator>()));
        services.AddHostedService(sp => sp.GetRequiredService<NotificationListener>());
        services.AddHostedService(sp => sp.GetRequiredService<ClusterClient>());
        return services;
    }

    /// <summary>Makes this host a silo: membership, turns, reminders and workers. Register grains and workers on the returned builder.</summary>
    public static SiloBuilder AddSilo(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddActorClient(configuration);
        var grains = new GrainCatalog();
        var workers = new WorkerCatalog();
        services.AddSingleton(grains);
        services.AddSingleton(workers);
        services.AddSingleton(new ListenChannels(Channels.Silo));
        services.AddSingleton<SiloIdentity>();
        services.AddSingleton<MembershipService>();
        services.AddSingleton<TurnProcessor>();
        services.AddSingleton<ReminderService>();
        services.AddSingleton<WorkerHost>();
        services.AddSingleton<RetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<MembershipService>());
        services.AddHostedService(sp => sp.GetRequiredService<TurnProcessor>());
        services.AddHostedService(sp => sp.GetRequiredService<ReminderService>());
        services.AddHostedService(sp => sp.GetRequiredService<WorkerHost>());
        services.AddHostedService(sp => sp.GetRequiredService<RetentionService>());
        return new SiloBuilder(services, grains, workers);
    }
}

/// <summary>Registers the grain classes and workers a silo hosts.</summary>
public sealed class SiloBuilder(IServiceCollection services, GrainCatalog grains, WorkerCatalog workers)
{
    public IServiceCollection Services { get; } = services;

    public SiloBuilder AddGrain<TInterface, TGrain>() where TInterface : IGrain where TGrain : Grain, TInterface
    {
        grains.Add(typeof(TInterface), typeof(TGrain));
        return this;
    }

    public SiloBuilder AddWorker<TWorker>(string kind) where TWorker : class, IWorker
    {
        workers.Add(kind, typeof(TWorker));
        Services.TryAddTransient<TWorker>();
        return this;
    }
}

/// <summary>Creates the database if needed and applies migrations before anything else starts.</summary>
internal sealed class DatabaseStartup(string connectionString) : IHostedService
{
    private SchemaMigrator? _migrator;

    public DatabaseStartup Bind(SchemaMigrator migrator)
    {
        _migrator = migrator;
        return this;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await SchemaMigrator.EnsureDatabaseAsync(connectionString, cancellationToken);
        await _migrator!.MigrateAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
