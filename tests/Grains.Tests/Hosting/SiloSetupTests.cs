using MediaActors.Silo;
using Npgsql;

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
}
