using MediaActors.Grains.Search;
using Npgsql;

namespace MediaActors.Api.Search;

/// <summary>A matching transcript passage: where it is, its text, and how it scored (text rank, vector similarity, combined).</summary>
public sealed record SearchHit(Guid ProjectId, string ProjectTitle, int Passage, double Start, double End, string Text, double Score, double TextScore, double VectorScore);

/// <summary>
/// Hybrid search over a user's transcript passages, scored inside PostgreSQL (no vector leaves the database):
/// <list type="bullet">
/// <item>full text: <c>websearch_to_tsquery('english')</c> against the passage's stored tsvector, ranked by
/// <c>ts_rank_cd</c> and divided by the best rank of the query, so the best word match scores 1;</item>
/// <item>meaning: the cosine of the query's vector and the passage's (both L2-normalised: a dot product over the
/// <c>real[]</c> column), for passages embedded by the same provider and model as the query (others count by text
/// only until the search index re-embeds them);</item>
/// <item>combined: cosine + <see cref="TextWeight"/> × the normalised text rank. A passage is a hit when its words
/// match or its cosine reaches <see cref="MinCosine"/>.</item>
/// </list>
/// Ordered by score, then project and passage, so pages (offset and limit) are stable.
/// </summary>
public static class TranscriptSearch
{
    /// <summary>What the best word match adds to a cosine (which is 0.3 to 0.7 for a passage that answers a paraphrase).</summary>
    public const double TextWeight = 0.5;

    /// <summary>Below this cosine a passage without matching words is not a hit (unrelated sentences score about 0 to 0.15).</summary>
    public const double MinCosine = 0.25;

    public const int MaxOffset = 1000;

    /// <param name="textWeight">What the best word match adds to the cosine (<see cref="TextWeight"/>; the benchmark also measures 0, meaning alone).</param>
    public static async Task<List<SearchHit>> SearchAsync(NpgsqlDataSource db, string userId, string query, QueryVector? vector, int limit, int offset,
        CancellationToken cancellationToken, double textWeight = TextWeight)
    {
        await using var command = db.CreateCommand(
            """
            WITH q AS (SELECT websearch_to_tsquery('english', $2) AS tsq),
            scored AS (
                SELECT c.project_id, p.title, c.idx, c.start_s, c.end_s, c.text,
                       CASE WHEN c.tsv @@ q.tsq THEN ts_rank_cd(c.tsv, q.tsq, 32)::float8 ELSE 0 END AS text_rank,
                       CASE WHEN $3::real[] IS NOT NULL AND c.provider = $5 AND c.model = $4 AND cardinality(c.embedding) = cardinality($3::real[])
                            THEN (SELECT sum(a::float8 * b) FROM unnest(c.embedding, $3::real[]) AS t(a, b)) ELSE 0 END AS cosine
                FROM transcript_chunks c JOIN projects p ON p.id = c.project_id, q
                WHERE c.user_id = $1),
            normalised AS (
                SELECT *, coalesce(text_rank / nullif(max(text_rank) OVER (), 0), 0) AS text_score FROM scored)
            SELECT project_id, title, idx, start_s, end_s, text, text_score, greatest(cosine, 0) AS vector_score,
                   greatest(cosine, 0) + $6 * text_score AS score
            FROM normalised
            WHERE text_rank > 0 OR cosine >= $7
            ORDER BY score DESC, project_id, idx
            LIMIT $8 OFFSET $9
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)vector?.Vector ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Real });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = vector?.Model ?? "" });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = vector?.Provider ?? "" });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = textWeight });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = MinCosine });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = offset });
        var hits = new List<SearchHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hits.Add(new SearchHit(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetDouble(3), reader.GetDouble(4), reader.GetString(5),
                Math.Round(reader.GetDouble(8), 4), Math.Round(reader.GetDouble(6), 4), Math.Round(reader.GetDouble(7), 4)));
        }

        return hits;
    }
}
