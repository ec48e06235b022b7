using MediaActors.ServiceDefaults;
using MediaActors.ServiceDefaults.Database;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace MediaActors.Silo.Tests.OrleansSchema;

/// <summary>One silo's row of the Orleans membership table, as the test reads it.</summary>
public sealed record MembershipRow(string Address, int Port, int Generation, string SiloName, int Status, int ProxyPort, string? SuspectTimes)
{
    public const int Active = 3;
    public const int Dead = 6;
}

/// <summary>
/// A fresh, empty database (orleans_test_&lt;guid&gt;) on the server named by MA_TEST_PG, dropped on dispose.
/// The schema is applied by the project's own migrator (every migration embedded in ServiceDefaults).
/// </summary>
public sealed class OrleansTestDatabase : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    private OrleansTestDatabase(string name)
    {
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
        _dataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("MA_TEST_PG") is { Length: > 0 } value ? value : "Host=127.0.0.1;Port=55432;Username=postgres";

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<OrleansTestDatabase> CreateAsync()
    {
        var database = new OrleansTestDatabase($"orleans_test_{Guid.NewGuid():N}");
        await SchemaMigrator.EnsureDatabaseAsync(database.ConnectionString);
        return database;
    }

    /// <summary>Runs the migrator as a host would, with its own connection pool.</summary>
    public async Task MigrateAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        // Include() ignores an assembly the migrator already has (its own, which today is ServiceDefaults).
        var migrator = new SchemaMigrator(dataSource, [], NullLogger<SchemaMigrator>.Instance)
            .Include(typeof(ServiceDefaultsExtensions).Assembly);
        await migrator.MigrateAsync();
    }

    public async Task<T?> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    public async Task<int> ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync();
    }

    public async Task<List<string>> StringsAsync(string sql, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    public async Task<List<MembershipRow>> MembershipAsync(string clusterId)
    {
        await using var command = Command(
            """
            SELECT address, port, generation, silo_name, status, proxy_port, suspect_times
            FROM orleans_membership WHERE cluster_id = $1 ORDER BY start_time, port
            """,
            [clusterId]);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<MembershipRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new MembershipRow(
                reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3), reader.GetInt32(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private NpgsqlCommand Command(string sql, object[] parameters)
    {
        var command = _dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return command;
    }
}
