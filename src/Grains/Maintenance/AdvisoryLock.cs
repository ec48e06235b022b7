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

    /// <summary>
    /// Runs a DELETE of at most <paramref name="batchSize"/> rows (its last parameter) again until it deletes fewer, at
    /// most <paramref name="maxBatches"/> times, so no statement holds many row locks for long; returns the rows deleted.
    /// </summary>
    public static async Task<long> DeleteInBatchesAsync(NpgsqlConnection connection, string sql, IReadOnlyList<NpgsqlParameter> parameters, int batchSize,
        int maxBatches, CancellationToken cancellationToken)
    {
        long total = 0;
        for (var batch = 0; batch < maxBatches; batch++)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            foreach (var parameter in parameters)
            {
                command.Parameters.Add(parameter.Clone());
            }

            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
            if (deleted < batchSize)
            {
                break;
            }
        }

        return total;
    }
}
