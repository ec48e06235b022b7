using MediaActors.Api.Auth;
using MediaActors.Providers.Search;
using Npgsql;

namespace MediaActors.Api.Search;

/// <summary>A matching transcript passage.</summary>
public sealed record SearchHit(Guid ProjectId, string ProjectTitle, int Passage, double Start, double End, string Text, double Score, double TextScore, double VectorScore);

/// <summary>Search over the user's transcripts: PostgreSQL full-text rank and embedding similarity, combined.</summary>
public static class SearchEndpoints
{
    public static void MapSearch(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/search", SearchAsync).RequireAuthorization().WithTags("Search");

    private static async Task<IResult> SearchAsync(string? q, int? limit, HttpContext http, NpgsqlDataSource db, IEmbedder embedder, CancellationToken cancellationToken)
    {
        var query = q?.Trim() ?? "";
        if (query.Length is 0 or > 500 || RequestGuards.HasControlCharacters(query))
        {
            return Problems.BadRequest("q must be 1 to 500 characters, without control characters.");
        }

        var size = limit ?? 20;
        if (size is < 1 or > 100)
        {
            return Problems.BadRequest("limit must be between 1 and 100.");
        }

        var vector = (await embedder.EmbedAsync([query], cancellationToken))[0];
        // Vectors of another embedding model are not comparable: those passages count by text only.
        await using var command = db.CreateCommand(
            """
            WITH q AS (SELECT websearch_to_tsquery('english', $2) AS tsq),
            scored AS (
                SELECT c.project_id, p.title, c.idx, c.start_s, c.end_s, c.text,
                       ts_rank_cd(c.tsv, q.tsq, 32)::float8 AS text_score,
                       CASE WHEN c.model = $4 AND c.provider = $5 AND array_length(c.embedding, 1) = array_length($3::real[], 1)
                            THEN greatest((SELECT sum(a::float8 * b) FROM unnest(c.embedding, $3::real[]) AS t(a, b)), 0) ELSE 0 END::float8 AS vector_score,
                       c.tsv @@ q.tsq AS text_match
                FROM transcript_chunks c JOIN projects p ON p.id = c.project_id, q
                WHERE c.user_id = $1)
            SELECT project_id, title, idx, start_s, end_s, text, text_score, vector_score, 0.5 * text_score + 0.5 * vector_score AS score
            FROM scored
            WHERE text_match OR vector_score >= 0.25
            ORDER BY score DESC, project_id, idx
            LIMIT $6
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = http.User.UserId() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query });
        command.Parameters.Add(new NpgsqlParameter<float[]> { TypedValue = vector });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Model });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Name });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = size });
        var hits = new List<SearchHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hits.Add(new SearchHit(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetDouble(3), reader.GetDouble(4), reader.GetString(5),
                Math.Round(reader.GetDouble(8), 4), Math.Round(reader.GetDouble(6), 4), Math.Round(reader.GetDouble(7), 4)));
        }

        return Results.Ok(new { query, items = hits });
    }
}
