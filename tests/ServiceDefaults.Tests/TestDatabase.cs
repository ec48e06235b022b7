using Npgsql;

namespace MediaActors.ServiceDefaults.Tests;

/// <summary>A fresh database on the test server (MA_TEST_PG, started by ./test.sh) for one test class; dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncLifetime
{
    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("MA_TEST_PG") is { Length: > 0 } value ? value : "Host=127.0.0.1;Port=55432;Username=postgres";

    public string Name { get; } = $"ma_test_{Guid.NewGuid():N}"[..24];

    public string ConnectionString => new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = Name }.ConnectionString;

    public async Task InitializeAsync() => await ExecuteOnServer($"CREATE DATABASE {Name}");

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteOnServer($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    /// <summary>Another empty database on the same server, for tests that need one of their own.</summary>
    public static async Task<string> CreateAnotherAsync()
    {
        var name = $"ma_test_{Guid.NewGuid():N}"[..24];
        await ExecuteOnServer($"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task ExecuteOnServer(string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
