using System.Text;
using MediaActors.Api.Auth;
using MediaActors.Grains.Search;
using Npgsql;

namespace MediaActors.Api.Search;

/// <summary>
/// <c>GET /api/search?q=&amp;limit=&amp;cursor=</c>: the user's transcript passages by meaning and by words
/// (<see cref="TranscriptSearch"/>), a page at a time; <c>GET /api/search/index</c>: whether stored vectors are all from
/// the current embedding model, and the re-embedding's progress when they are not.
/// </summary>
public static class SearchEndpoints
{
    public static void MapSearch(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/search", SearchAsync).RequireAuthorization().WithTags("Search");
        app.MapGet("/api/search/index", IndexAsync).RequireAuthorization().WithTags("Search");
    }

    private static async Task<IResult> SearchAsync(string? q, int? limit, string? cursor, HttpContext http, NpgsqlDataSource db, IClusterClient cluster,
        ILoggerFactory loggers, CancellationToken cancellationToken)
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

        var offset = cursor is null ? 0 : DecodeCursor(cursor);
        if (offset is null or > TranscriptSearch.MaxOffset)
        {
            return Problems.BadRequest("cursor is not valid: pass the nextCursor of the previous page (results go 1,000 deep).");
        }

        // The query's vector comes from a silo (the model lives there). Without one, search still answers by words.
        QueryVector? vector = null;
        if (http.RequestServices.GetRequiredService<ClusterConnection>().IsConnected)
        {
            try
            {
                vector = await cluster.GetGrain<IQueryEmbedderGrain>(0).Embed(query).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                loggers.CreateLogger("Search").LogWarning("No silo embedded the search query ({Error}); answering by words only", ex.GetType().Name);
            }
        }

        // One more than asked tells whether another page exists.
        var hits = await TranscriptSearch.SearchAsync(db, http.User.UserId(), query, vector, size + 1, offset.Value, cancellationToken);
        var more = hits.Count > size && offset.Value + size < TranscriptSearch.MaxOffset;
        return Results.Ok(new
        {
            query,
            items = hits.Take(size),
            nextCursor = more ? EncodeCursor(offset.Value + size) : null,
            byMeaning = vector is null ? null : new { provider = vector.Provider, model = vector.Model },
        });
    }

    /// <summary>
    /// The user's passages by whether their vectors come from the embedder search uses now; stale ones are found by
    /// their words only until the silos' re-embedding reaches them.
    /// </summary>
    private static async Task<IResult> IndexAsync(HttpContext http, NpgsqlDataSource db, Providers.Search.IEmbedder embedder, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT count(*), count(*) FILTER (WHERE provider = $2 AND model = $3) FROM transcript_chunks WHERE user_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = http.User.UserId() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = embedder.Model });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (passages, current) = (reader.GetInt64(0), reader.GetInt64(1));
        return Results.Ok(new
        {
            provider = embedder.Name,
            model = embedder.Model,
            passages,
            current,
            stale = passages - current,
            progress = passages == 0 ? 100 : (int)(100 * current / passages),
        });
    }

    private static string EncodeCursor(int offset) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"offset:{offset}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static int? DecodeCursor(string cursor)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(padded));
            return text.StartsWith("offset:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(7), out var offset) && offset >= 0 ? offset : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
