using System.Diagnostics;
using Npgsql;

namespace MediaActors.Runtime.Bench;

/// <summary>A fresh database for one scenario (the runtime's hosts install the schema); dropped on dispose.</summary>
public sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _server;
    private readonly NpgsqlConnection _probe;

    private BenchDatabase(string server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        // The probe polls progress on a connection of its own, outside the hosts' pools.
        _probe = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(string server, string scenario)
    {
        var name = $"ma_bench_{scenario}_{Guid.NewGuid():N}"[..40].Replace('-', '_');
        await ExecuteOnServerAsync(server, $"CREATE DATABASE {name}");
        return new BenchDatabase(server, name);
    }

    public async Task<long> ScalarAsync(string sql)
    {
        if (_probe.State != System.Data.ConnectionState.Open)
        {
            await _probe.OpenAsync();
        }

        await using var command = new NpgsqlCommand(sql, _probe);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>Polls until no message is left in the mailboxes; returns when the last one was seen gone.</summary>
    public async Task WaitUntilDrainedAsync(TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (await ScalarAsync("SELECT count(*) FROM runtime.messages") > 0)
        {
            if (stopwatch.Elapsed > timeout)
            {
                var left = await ScalarAsync("SELECT count(*) FROM runtime.messages");
                throw new TimeoutException($"{left} messages were still queued after {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>The sum of every bench grain's counter: each processed Tick adds exactly one.</summary>
    public Task<long> CounterSumAsync() =>
        ScalarAsync("SELECT coalesce(sum((state->>'count')::bigint), 0) FROM runtime.grains WHERE grain_type = 'bench-noop'");

    public Task<long> DeadLettersAsync() => ScalarAsync("SELECT count(*) FROM runtime.dead_messages");

    public async ValueTask DisposeAsync()
    {
        await _probe.DisposeAsync();
        await ExecuteOnServerAsync(_server, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private static async Task ExecuteOnServerAsync(string server, string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
