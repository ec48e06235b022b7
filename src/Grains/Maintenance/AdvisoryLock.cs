using Npgsql;

namespace MediaActors.Grains.Maintenance;

/// <summary>A PostgreSQL session advisory lock that lets one silo at a time run a cluster-wide job.</summary>
public static class AdvisoryLock
{
    /// <summary>
    /// Runs <paramref name="work"/> on a connection holding lock <paramref name="key"/>, then releases it; returns -1
    /// without running it when another session holds the lock.
    /// </summary>
    public static async Task<long> TryRunAsync(NpgsqlDataSource dataSource, long key, Func<NpgsqlConnection, Task<long>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({key})", connection))
        {
            if (await tryLock.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return -1;
            }
        }

        try
        {
            return await work(connection);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({key})", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}
