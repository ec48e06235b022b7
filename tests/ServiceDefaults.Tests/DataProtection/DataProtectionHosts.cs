using System.Collections.Concurrent;
using MediaActors.ServiceDefaults.Database;
using MediaActors.ServiceDefaults.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MediaActors.ServiceDefaults.Tests.DataProtection;

/// <summary>A fresh database of its own (dropped at the end) and hosts on it, each registering the runtime client and Data Protection.</summary>
public sealed class DataProtectionHosts : IAsyncDisposable
{
    private readonly List<IHost> _hosts = [];

    private DataProtectionHosts(string connectionString) => ConnectionString = connectionString;

    public string ConnectionString { get; }

    /// <summary>Every log entry at warning level or above, from every host.</summary>
    public LogCapture Logs { get; } = new();

    public static async Task<DataProtectionHosts> CreateAsync() => new(await TestDatabase.CreateAnotherAsync());

    /// <summary>
    /// Starts a host like the API or a silo: AddMediaActorsDataProtection first (the hosts call it from
    /// AddServiceDefaults, after AddMediaActorsDatabase) unless <paramref name="dataProtectionFirst"/> is false.
    /// </summary>
    public async Task<IHost> StartAsync(string name, Dictionary<string, string?>? settings = null, bool dataProtectionFirst = true)
    {
        var values = new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = ConnectionString };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(values);
        builder.Logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Warning);
        if (dataProtectionFirst)
        {
            builder.Services.AddMediaActorsDataProtection(builder.Configuration);
        }

        builder.Services.AddMediaActorsDatabase(builder.Configuration);
        if (!dataProtectionFirst)
        {
            builder.Services.AddMediaActorsDataProtection(builder.Configuration);
        }

        var host = builder.Build();
        lock (_hosts)
        {
            _hosts.Add(host);
        }

        await host.StartAsync();
        return host;
    }

    public async Task StopAsync(IHost host)
    {
        lock (_hosts)
        {
            _hosts.Remove(host);
        }

        await host.StopAsync(TimeSpan.FromSeconds(30));
        host.Dispose();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<List<string>> KeyRowsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT xml FROM data_protection_keys ORDER BY created_at", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        List<IHost> hosts;
        lock (_hosts)
        {
            hosts = [.. _hosts];
        }

        foreach (var host in hosts)
        {
            await StopAsync(host);
        }

        var server = new NpgsqlConnectionStringBuilder(TestDatabase.ServerConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        var database = new NpgsqlConnectionStringBuilder(ConnectionString).Database!;
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}

public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Entries => [.. _entries];

    public IReadOnlyList<string> Errors =>
        [.. _entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Level} {e.Category}: {e.Message}")];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                capture._entries.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : $" | {exception.GetType().Name}: {exception.Message}")));
            }
        }
    }
}
