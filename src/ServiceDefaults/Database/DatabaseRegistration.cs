using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace MediaActors.ServiceDefaults.Database;

/// <summary>The PostgreSQL data source every host uses, and the start-up step that creates and migrates the database.</summary>
public static class DatabaseRegistration
{
    /// <summary>Registers the data source and, as the first hosted service, the migration (Orleans, the read model, the key ring).</summary>
    public static IServiceCollection AddMediaActorsDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(SchemaMigrator)))
        {
            return services;
        }

        var connectionString = PostgresConnectionString(configuration);
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { Name = "mediaactors" }.Build());
        services.AddSingleton<SchemaMigrator>();
        services.AddHostedService(sp => new DatabaseStartup(connectionString, sp.GetRequiredService<SchemaMigrator>()));
        return services;
    }

    public static string PostgresConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres")
        ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set (environment variable ConnectionStrings__Postgres).");

    /// <summary>Creates the database if missing and applies the migrations before anything else starts (Orleans included).</summary>
    private sealed class DatabaseStartup(string connectionString, SchemaMigrator migrator) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await SchemaMigrator.EnsureDatabaseAsync(connectionString, cancellationToken);
            await migrator.MigrateAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
