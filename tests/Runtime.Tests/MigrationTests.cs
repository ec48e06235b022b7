using Microsoft.Extensions.Hosting;

namespace MediaActors.Runtime.Tests;

public sealed class MigrationTests
{
    [Fact]
    public async Task Two_silos_starting_together_on_an_empty_database_both_come_up()
    {
        var connectionString = await TestDatabase.CreateAnotherAsync();
        var starts = await Task.WhenAll(
            Task.Run(() => Cluster.StartSiloAsync(connectionString, "twin-1")),
            Task.Run(() => Cluster.StartSiloAsync(connectionString, "twin-2")));
        try
        {
            var database = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!;
            var probe = new ProbeDatabase(connectionString);
            Assert.Equal(
                (long)SchemaMigrator.Discover([typeof(SchemaMigrator).Assembly]).Count,
                await probe.ScalarAsync<long>("SELECT count(*) FROM public.schema_migrations"));
            Assert.Equal(2L, await probe.ScalarAsync<long>("SELECT count(*) FROM runtime.silos WHERE status = 'active'"));
            Assert.NotEmpty(database);

            // Both work: each answers a call.
            Assert.Equal(1, await starts[0].Client().GetGrain<TestSilo.ICounterGrain>("twin").Increment());
            Assert.Equal(2, await starts[1].Client().GetGrain<TestSilo.ICounterGrain>("twin").Increment());
        }
        finally
        {
            foreach (var host in starts)
            {
                await host.StopAsync();
            }
        }
    }

    private sealed class ProbeDatabase(string connectionString)
    {
        public async Task<T> ScalarAsync<T>(string sql)
        {
            await using var connection = new Npgsql.NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand(sql, connection);
            return (T)(await command.ExecuteScalarAsync())!;
        }
    }
}
