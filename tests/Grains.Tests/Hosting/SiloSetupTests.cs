using MediaActors.Silo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace MediaActors.Grains.Tests.Hosting;

/// <summary>The connection string Orleans' ADO.NET providers get (the grain test cluster's storage runs through it too).</summary>
public sealed class SiloSetupTests
{
    [Fact]
    public void The_providers_prepare_their_statements_unless_the_connection_string_says_otherwise()
    {
        var prepared = new NpgsqlConnectionStringBuilder(SiloSetup.ForOrleans("Host=db;Username=postgres;Password=secret;Database=mediaactors"));
        Assert.Equal(16, prepared.MaxAutoPrepare);
        Assert.Equal("db", prepared.Host);
        Assert.Equal("secret", prepared.Password);
        Assert.Equal("mediaactors", prepared.Database);

        Assert.Equal(0, new NpgsqlConnectionStringBuilder(SiloSetup.ForOrleans("Host=db;Max Auto Prepare=0")).MaxAutoPrepare);
        Assert.Equal(4, new NpgsqlConnectionStringBuilder(SiloSetup.ForOrleans("Host=db;MaxAutoPrepare=4")).MaxAutoPrepare);
    }

    [Fact]
    public void Membership_timings_come_from_the_Orleans_section_with_a_quick_i_am_alive_by_default()
    {
        static ClusterMembershipOptions Membership(Dictionary<string, string?> settings)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["ConnectionStrings:Postgres"] = "Host=db;Username=postgres" });
            builder.UseOrleans(silo => silo.UseMediaActorsCluster(builder.Configuration));
            using var host = builder.Build();
            return host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
        }

        var defaults = Membership([]);
        Assert.Equal(TimeSpan.FromSeconds(2), defaults.ProbeTimeout);
        Assert.Equal(3, defaults.NumMissedProbesLimit);
        // Orleans' own default is 30 s: a dead silo that too few live silos can vote out would keep its grains for a minute.
        Assert.Equal(TimeSpan.FromSeconds(10), defaults.IAmAliveTablePublishTimeout);

        var quick = Membership(new() { ["Orleans:ProbeTimeout"] = "00:00:01", ["Orleans:NumMissedProbesLimit"] = "2", ["Orleans:IAmAlivePeriod"] = "00:00:02" });
        Assert.Equal((TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(2)), (quick.ProbeTimeout, quick.NumMissedProbesLimit, quick.IAmAliveTablePublishTimeout));
    }
}
