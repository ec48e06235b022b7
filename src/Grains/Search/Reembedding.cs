using MediaActors.Grains.Maintenance;
using MediaActors.Providers.Search;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Grains.Search;

/// <summary>How often silos look for passages embedded by another model (section "Search").</summary>
public sealed class SearchOptions
{
    /// <summary>How often one silo checks for stale passage vectors and re-embeds them; zero turns it off.</summary>
    public TimeSpan ReembedInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Passages re-embedded per transaction.</summary>
    public int ReembedBatch { get; set; } = 64;
}

/// <summary>
/// Keeps stored passage vectors comparable. Vectors of different models cannot be compared, so after the embedding
/// provider or model changes every passage embedded by another one is re-embedded here, in the background, a batch at
/// a time, oldest projects first; until then search finds it by its words only. One silo at a time does it (an
/// advisory lock); each batch's update only replaces vectors that are still the stale ones it read, so a project whose
/// embedding step runs meanwhile keeps its fresh vectors. Progress: <c>GET /api/search/index</c> and the log.
/// </summary>
public sealed class ReembeddingService(NpgsqlDataSource dataSource, IEmbedder embedder, IOptions<SearchOptions> options, ILogger<ReembeddingService> logger)
    : PeriodicService(logger)
{
    private const long LockKey = 0x4D41_5245_454D_4244; // "MAREEMBD"

    protected override TimeSpan Interval => options.Value.ReembedInterval;

    protected override string JobName => "Re-embedding";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => ReembedAsync(cancellationToken);

    /// <summary>Re-embeds every stale passage; returns how many, or -1 when another silo holds the lock.</summary>
    public Task<long> ReembedAsync(CancellationToken cancellationToken) =>
        AdvisoryLock.TryRunAsync(dataSource, LockKey, async connection =>
        {
            var stale = await CountStaleAsync(connection, cancellationToken);
            if (stale == 0)
            {
                return 0;
            }

            logger.LogInformation("Re-embedding {Stale} passages with {Provider}/{Model}", stale, embedder.Name, embedder.Model);
            long done = 0;
            var lastLog = DateTime.UtcNow;
            while (!cancellationToken.IsCancellationRequested)
            {
                var batch = await ReadStaleAsync(connection, Math.Max(1, options.Value.ReembedBatch), cancellationToken);
                if (batch.Count == 0)
                {
                    break;
                }

                var vectors = await embedder.EmbedAsync(batch.Select(b => b.Text).ToList(), cancellationToken);
                done += await WriteAsync(connection, batch, vectors, cancellationToken);
                if (DateTime.UtcNow - lastLog > TimeSpan.FromSeconds(10))
                {
                    logger.LogInformation("Re-embedded {Done} of {Stale} passages", done, stale);
                    lastLog = DateTime.UtcNow;
                }
            }

            logger.LogInformation("Re-embedding finished: {Done} passages now use {Provider}/{Model}", done, embedder.Name, embedder.Model);
            return done;
        }, cancellationToken);

    private sealed record StalePassage(Guid ProjectId, int Index, string Text, string Provider, string Model);

    private async Task<long> CountStaleAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM transcript_chunks WHERE (provider, model) <> ($1, $2)", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Model });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task<List<StalePassage>> ReadStaleAsync(NpgsqlConnection connection, int limit, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT project_id, idx, text, provider, model FROM transcript_chunks WHERE (provider, model) <> ($1, $2) ORDER BY project_id, idx LIMIT $3",
            connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Model });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var batch = new List<StalePassage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            batch.Add(new StalePassage(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        }

        return batch;
    }

    private async Task<int> WriteAsync(NpgsqlConnection connection, List<StalePassage> batch, IReadOnlyList<float[]> vectors, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var written = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            await using var command = new NpgsqlCommand(
                """
                UPDATE transcript_chunks SET embedding = $3, provider = $4, model = $5
                WHERE project_id = $1 AND idx = $2 AND provider = $6 AND model = $7
                """, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = batch[i].ProjectId });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batch[i].Index });
            command.Parameters.Add(new NpgsqlParameter<float[]> { TypedValue = vectors[i] });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Name });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Model });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batch[i].Provider });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = batch[i].Model });
            written += await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return written;
    }
}
