using MediaActors.Api.Search;
using MediaActors.Grains.Search;
using MediaActors.Providers.Search;
using Npgsql;

namespace MediaActors.SearchEval;

/// <summary>How one way of searching did on one half of the queries.</summary>
/// <param name="Missed">The queries whose passage was not in the first five hits: "id (rank N)" or "id (not in the first ten)".</param>
public sealed record RetrievalScore(string Method, string Kind, int Queries, double RecallAt5, double Mrr, IReadOnlyList<string> Missed);

/// <summary>
/// Measures search quality through the production path: the passages are stored as transcript passages of one project
/// per topic (straight into <c>transcript_chunks</c>, so no recognition error blurs the measure), each method under its
/// own user, and every query goes through <see cref="TranscriptSearch"/> as <c>GET /api/search</c> runs it. Methods:
/// full text only (no query vector), the hashed TF-IDF embedding, and the sentence model, both combined with full text.
/// Recall@5: the share of queries whose passage is in the first five hits; MRR: the mean of 1/rank (0 when not in the
/// first ten).
/// </summary>
public sealed class RetrievalEvaluation(NpgsqlDataSource db, RetrievalSet set)
{
    public const int Depth = 10;

    /// <summary>Stores the passages for <paramref name="method"/> (vectors from <paramref name="embedder"/>, none without one).</summary>
    public async Task LoadAsync(string method, IEmbedder? embedder, CancellationToken cancellationToken = default)
    {
        var vectors = embedder is null
            ? set.Passages.Select(_ => Array.Empty<float>()).ToList()
            : (await embedder.EmbedAsync(set.Passages.Select(p => p.Text).ToList(), cancellationToken)).ToList();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var topic in set.Passages.Select(p => p.Topic).Distinct())
        {
            await using var project = new NpgsqlCommand(
                """
                INSERT INTO projects (id, user_id, title, status, source, created_at, updated_at)
                VALUES ($1, $2, $3, 'completed', '{"kind":"evaluation"}', now(), now())
                """, connection, transaction);
            project.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = ProjectId(method, topic) });
            project.Parameters.Add(new NpgsqlParameter<string> { TypedValue = UserId(method) });
            project.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
            await project.ExecuteNonQueryAsync(cancellationToken);
        }

        for (var i = 0; i < set.Passages.Count; i++)
        {
            var passage = set.Passages[i];
            await using var chunk = new NpgsqlCommand(
                """
                INSERT INTO transcript_chunks (project_id, idx, user_id, start_s, end_s, text, embedding, provider, model)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """, connection, transaction);
            var index = PassageIndex(passage);
            chunk.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = ProjectId(method, passage.Topic) });
            chunk.Parameters.Add(new NpgsqlParameter<int> { TypedValue = index });
            chunk.Parameters.Add(new NpgsqlParameter<string> { TypedValue = UserId(method) });
            chunk.Parameters.Add(new NpgsqlParameter<double> { TypedValue = index * 30.0 });
            chunk.Parameters.Add(new NpgsqlParameter<double> { TypedValue = index * 30.0 + 30 });
            chunk.Parameters.Add(new NpgsqlParameter<string> { TypedValue = passage.Text });
            chunk.Parameters.Add(new NpgsqlParameter<float[]> { TypedValue = vectors[i] });
            chunk.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder?.Name ?? "none" });
            chunk.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder?.Model ?? "none" });
            await chunk.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Runs every query for <paramref name="method"/>; returns the scores of the exact and the paraphrase half.</summary>
    /// <param name="textWeight">The weight of the word match in the combined score (the production weight by default).</param>
    /// <param name="label">The method's name in the scores (the stored passages are <paramref name="method"/>'s).</param>
    public async Task<IReadOnlyList<RetrievalScore>> ScoreAsync(string method, IEmbedder? embedder, CancellationToken cancellationToken = default,
        double textWeight = TranscriptSearch.TextWeight, string? label = null)
    {
        var ranks = new List<(string Kind, string Id, int? Rank)>();
        foreach (var query in set.Queries)
        {
            var vector = embedder is null ? null
                : new QueryVector((await embedder.EmbedAsync([query.Text], cancellationToken))[0], embedder.Name, embedder.Model);
            var hits = await TranscriptSearch.SearchAsync(db, UserId(method), query.Text, vector, Depth, 0, cancellationToken, textWeight);
            var relevant = query.Relevant.Select(id => set.Passages.Single(p => p.Id == id))
                .Select(p => (ProjectId(method, p.Topic), PassageIndex(p))).ToHashSet();
            var position = hits.FindIndex(h => relevant.Contains((h.ProjectId, h.Passage)));
            ranks.Add((query.Kind, query.Id, position < 0 ? null : position + 1));
        }

        return ranks.GroupBy(r => r.Kind).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new RetrievalScore(label ?? method, g.Key, g.Count(),
                Math.Round(g.Count(r => r.Rank <= 5) / (double)g.Count(), 3),
                Math.Round(g.Sum(r => r.Rank is { } rank ? 1.0 / rank : 0) / g.Count(), 3),
                g.Where(r => r.Rank is not <= 5).Select(r => r.Rank is { } rank ? $"{r.Id} (rank {rank})" : $"{r.Id} (not in the first ten)").ToList()))
            .ToList();
    }

    private static string UserId(string method) => $"eval-{method}";

    private static int PassageIndex(EvalPassage passage) => int.Parse(passage.Id[(passage.Id.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A stable id per method and topic (name-based, so runs are comparable).</summary>
    private static Guid ProjectId(string method, string topic)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{method}/{topic}"));
        return new Guid(hash.AsSpan(0, 16));
    }
}
