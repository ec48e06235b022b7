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
        var connectionString = DatabaseRegistration.PostgresConnectionString(configuration);
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
            o.DefunctSiloExpiration = TimeSpan.FromHours(1);
            o.DefunctSiloCleanupPeriod = TimeSpan.FromMinutes(10);
        });
        silo.AddDashboard();
        return silo;
    }

    /// <summary>Grain state (as JSON) and reminders on PostgreSQL, and the contracts' serializers: what grains need, whatever the clustering.</summary>
    public static ISiloBuilder UseMediaActorsStateAndReminders(this ISiloBuilder silo, string connectionString)
    {
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
}
