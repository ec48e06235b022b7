using Orleans.Dashboard;
using Orleans.Serialization;
using System.Net.Sockets;
using MediaActors.Grains;
using MediaActors.Grains.Projects;
using MediaActors.ServiceDefaults;
using MediaActors.ServiceDefaults.Database;
using Npgsql;
using Orleans.Configuration;

namespace MediaActors.Silo;

/// <summary>How a silo joins the cluster: ADO.NET clustering, grain storage and reminders on PostgreSQL, endpoints, membership timings, the dashboard.</summary>
public static class SiloSetup
{
    public static ISiloBuilder UseMediaActorsCluster(this ISiloBuilder silo, IConfiguration configuration)
    {
        var settings = ClusterSettings.From(configuration);
        var connectionString = ForOrleans(DatabaseRegistration.PostgresConnectionString(configuration));
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = settings.ClusterId;
            o.ServiceId = settings.ServiceId;
        });
        silo.ConfigureEndpoints(settings.AdvertisedHost, settings.SiloPort, settings.GatewayPort, AddressFamily.InterNetwork, listenOnAnyHostAddress: true);
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = connectionString;
        });
        silo.UseMediaActorsStateAndReminders(connectionString);
        // Quick failover: a silo that stops answering is declared dead after about ProbeTimeout x NumMissedProbesLimit.
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = settings.ProbeTimeout;
            o.NumMissedProbesLimit = settings.NumMissedProbesLimit;
            o.IAmAliveTablePublishTimeout = settings.IAmAlivePeriod;
            o.DefunctSiloExpiration = TimeSpan.FromHours(1);
            o.DefunctSiloCleanupPeriod = TimeSpan.FromMinutes(10);
        });
        silo.AddDashboard();
        return silo;
    }

    /// <summary>Grain state (as JSON) and reminders on PostgreSQL, and the contracts' serializers: what grains need, whatever the clustering.</summary>
    public static ISiloBuilder UseMediaActorsStateAndReminders(this ISiloBuilder silo, string connectionString)
    {
        connectionString = ForOrleans(connectionString);
        silo.AddAdoNetGrainStorage(StorageNames.Projects, o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = connectionString;
            o.GrainStorageSerializer = new JsonGrainStateSerializer();
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = connectionString;
        });
        // The project watchdog's period is a product setting (Projects:WatchdogPeriod, seconds in tests); Orleans' floor of 1 min would hide it.
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        silo.Services.AddSerializer(s => s.AddMediaActorsContracts());
        return silo;
    }

    /// <summary>
    /// The connection string the ADO.NET providers use: with Npgsql's automatic preparation (<c>Max Auto Prepare</c> 16)
    /// unless the string sets it. The providers send the same few statements unprepared on every call, and PostgreSQL spent
    /// most of its time per grain-state write parsing and planning them again: prepared, persisted grain calls/s rose by
    /// 22-83% in bench/run.sh (docs/BENCHMARKS.md). Same statements, same commits: durability is unchanged.
    /// </summary>
    public static string ForOrleans(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 16;
        }

        return builder.ConnectionString;
    }
}
