using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

namespace MediaActors.Silo.Tests.OrleansSchema;

/// <summary>What a test silo needs to know; serialisable so a child process can host the same silo.</summary>
public sealed record SiloSettings(
    string ConnectionString,
    string ClusterId,
    string ServiceId,
    string Name,
    int SiloPort,
    int GatewayPort,
    bool FastFailureDetection = false);

/// <summary>Builds silos and clients wired to PostgreSQL through Orleans' ADO.NET providers (invariant "Npgsql").</summary>
public static class TestSilo
{
    public const string Invariant = "Npgsql";
    public const string StorageName = "pg";
    public const string DeletingStorageName = "pg-delete-on-clear";

    public static SiloSettings Settings(string connectionString, string clusterId, string serviceId, string name, bool fastFailureDetection = false) =>
        new(connectionString, clusterId, serviceId, name, FreePort(), FreePort(), fastFailureDetection);

    public static IHost BuildSilo(SiloSettings settings, Action<ILoggingBuilder>? logging = null)
    {
        // No default configuration sources or console logging: the tests choose where logs go.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = settings.Name });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddSingleton(new TickLog(settings.ConnectionString, settings.Name));
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.Name);
            silo.ConfigureEndpoints(IPAddress.Loopback, settings.SiloPort, settings.GatewayPort);
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = settings.ConnectionString;
            });
            silo.AddAdoNetGrainStorage(StorageName, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = settings.ConnectionString;
            });
            silo.AddAdoNetGrainStorage(DeletingStorageName, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = settings.ConnectionString;
                o.DeleteStateOnClear = true;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = settings.ConnectionString;
            });
            // Below the 1 minute default so a test sees ticks; Orleans only logs a warning for it.
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            if (settings.FastFailureDetection)
            {
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    // Death in ~1-2 s: one missed-probe round of 1 s probes, and one vote is enough.
                    o.ProbeTimeout = TimeSpan.FromSeconds(1);
                    o.NumMissedProbesLimit = 2;
                    o.NumVotesForDeathDeclaration = 1;
                    // Cleanup runs when the membership view changes; frequent refreshes and heartbeats keep that happening.
                    o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                    o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
                    // Dead rows are removed once their last activity (start, heartbeat or death vote) is 3 s old.
                    o.DefunctSiloCleanupPeriod = TimeSpan.FromSeconds(1);
                    o.DefunctSiloExpiration = TimeSpan.FromSeconds(3);
                    o.DefunctSiloMinimumRetention = TimeSpan.FromSeconds(3);
                });
            }
        });
        return builder.Build();
    }

    public static async Task<IHost> StartSiloAsync(SiloSettings settings, Action<ILoggingBuilder>? logging = null)
    {
        var host = BuildSilo(settings, logging);
        try
        {
            await host.StartAsync();
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    public static async Task<IHost> StartClientAsync(string connectionString, string clusterId, string serviceId, Action<ILoggingBuilder>? logging = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "client" });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = serviceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Stops (gracefully) and disposes hosts, in order, ignoring nulls; for finally blocks.</summary>
    public static async Task StopAllAsync(params IHost?[] hosts)
    {
        foreach (var host in hosts)
        {
            if (host is null)
            {
                continue;
            }

            try
            {
                await host.StopAsync();
            }
            finally
            {
                host.Dispose();
            }
        }
    }

    private static int FreePort() => ServiceDefaults.Tests.TestPorts.Next();
}
