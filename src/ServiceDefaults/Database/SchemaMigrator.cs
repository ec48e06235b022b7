using System.Reflection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MediaActors.ServiceDefaults.Database;

/// <summary>An assembly whose embedded NNNN_name.sql resources are migrations (register with services.AddSingleton).</summary>
public sealed record MigrationAssembly(Assembly Assembly);

/// <summary>
/// Applies versioned SQL scripts (embedded resources named NNNN_name.sql) once each. A session advisory
/// lock serializes hosts that start together; each script runs in its own transaction with its record.
/// </summary>
public sealed class SchemaMigrator(NpgsqlDataSource dataSource, IEnumerable<MigrationAssembly> sources, ILogger<SchemaMigrator> logger)
{
    private const long LockKey = 0x4D41_5343_4845_4D41; // "MASCHEMA"
    private readonly List<Assembly> _assemblies = new List<Assembly> { typeof(SchemaMigrator).Assembly }.Concat(sources.Select(s => s.Assembly)).Distinct().ToList();

    /// <summary>Adds the migrations embedded in another assembly (all are applied in the order of their versions).</summary>
    public SchemaMigrator Include(Assembly assembly)
    {
        if (!_assemblies.Contains(assembly))
        {
            _assemblies.Add(assembly);
        }

        return this;
    }

    public static IReadOnlyList<(string Version, string Sql)> Discover(IEnumerable<Assembly> assemblies) =>
        assemblies
            .SelectMany(a => a.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)).Select(n => (Assembly: a, Name: n)))
            .Select(r =>
            {
                var parts = r.Name.Split('.');
                var version = parts[^2];
                using var stream = r.Assembly.GetManifestResourceStream(r.Name)!;
                using var reader = new StreamReader(stream);
                return (Version: version, Sql: reader.ReadToEnd());
            })
            .OrderBy(m => m.Version, StringComparer.Ordinal)
            .ToList();

    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        var migrations = Discover(_assemblies);
        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two migrations share version {duplicate.Key}.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await Execute(connection, $"SELECT pg_advisory_lock({LockKey})", cancellationToken);
        try
        {
            await Execute(connection,
                "CREATE TABLE IF NOT EXISTS public.schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                cancellationToken);
            var applied = new HashSet<string>(StringComparer.Ordinal);
            await using (var command = new NpgsqlCommand("SELECT version FROM public.schema_migrations", connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetString(0));
                }
            }

            foreach (var (version, sql) in migrations.Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await Execute(connection, sql, cancellationToken);
                await using (var record = new NpgsqlCommand("INSERT INTO public.schema_migrations (version) VALUES ($1)", connection))
                {
                    record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = version });
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Applied schema migration {Version}", version);
            }
        }
        finally
        {
            await Execute(connection, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    /// <summary>Creates the database named in the connection string if it does not exist (tolerates a concurrent creator).</summary>
    public static async Task EnsureDatabaseAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var database = builder.Database;
        if (string.IsNullOrEmpty(database) || database == "postgres")
        {
            return;
        }

        builder.Database = "postgres";
        builder.Pooling = false;
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = database });
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }

        try
        {
            await Execute(connection, $"CREATE DATABASE \"{database.Replace("\"", "\"\"")}\"", cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another host created it at the same moment.
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
