using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediaActors.Providers.Search.Local;
using MediaActors.SearchEval;
using Npgsql;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>
/// Search through the API and silo processes: passages whose vectors another model made (the hashed embedding of
/// before) are re-embedded in the background by a silo and then found by meaning; results come a page at a time.
/// </summary>
public sealed class SearchTests : IAsyncLifetime
{
    private PipelineCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await PipelineCluster.StartAsync(configure: s => s["Search:ReembedInterval"] = "00:00:01");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Passages_of_another_model_are_re_embedded_in_the_background_then_found_by_meaning_a_page_at_a_time()
    {
        // One topic of the retrieval set, stored as a project's passages with vectors of the hashed embedding.
        var set = RetrievalSet.Load(RetrievalSet.DefaultPath());
        var passages = set.Passages.Where(p => p.Topic == "energy").ToList();
        var projectId = Guid.NewGuid();
        await using (var db = NpgsqlDataSource.Create(_cluster.Database.ConnectionString))
        {
            // One transaction: the silos' re-embedding (every second here) sees all the passages or none.
            await using var connection = await db.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var project = new NpgsqlCommand(
                "INSERT INTO projects (id, user_id, title, status, source, created_at, updated_at) VALUES ($1, 'dev', 'Home energy', 'completed', '{\"kind\":\"url\"}', now(), now())",
                connection, transaction))
            {
                project.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
                await project.ExecuteNonQueryAsync();
            }

            var hashed = new HashedTfIdfEmbedder();
            var vectors = await hashed.EmbedAsync(passages.Select(p => p.Text).ToList(), CancellationToken.None);
            for (var i = 0; i < passages.Count; i++)
            {
                await using var chunk = new NpgsqlCommand(
                    "INSERT INTO transcript_chunks (project_id, idx, user_id, start_s, end_s, text, embedding, provider, model) VALUES ($1, $2, 'dev', $3, $4, $5, $6, $7, $8)",
                    connection, transaction);
                chunk.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
                chunk.Parameters.Add(new NpgsqlParameter<int> { TypedValue = i });
                chunk.Parameters.Add(new NpgsqlParameter<double> { TypedValue = i * 30.0 });
                chunk.Parameters.Add(new NpgsqlParameter<double> { TypedValue = i * 30.0 + 30 });
                chunk.Parameters.Add(new NpgsqlParameter<string> { TypedValue = passages[i].Text });
                chunk.Parameters.Add(new NpgsqlParameter<float[]> { TypedValue = vectors[i] });
                chunk.Parameters.Add(new NpgsqlParameter<string> { TypedValue = hashed.Name });
                chunk.Parameters.Add(new NpgsqlParameter<string> { TypedValue = hashed.Model });
                await chunk.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
        }

        // A silo notices and re-embeds them with the sentence model; the index status shows it done.
        JsonElement index = default;
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            index = await _cluster.Http.GetFromJsonAsync<JsonElement>("/api/search/index");
            if (index.GetProperty("stale").GetInt64() == 0)
            {
                break;
            }
        }

        Assert.Equal("local-minilm", index.GetProperty("provider").GetString());
        Assert.Equal("all-MiniLM-L6-v2", index.GetProperty("model").GetString());
        Assert.Equal(passages.Count, index.GetProperty("passages").GetInt64());
        Assert.Equal(passages.Count, index.GetProperty("current").GetInt64());
        Assert.Equal(100, index.GetProperty("progress").GetInt32());
        Assert.Contains($"Re-embedding {passages.Count} passages with local-minilm/all-MiniLM-L6-v2", _cluster.Silos[0].Output, StringComparison.Ordinal);
        Assert.Equal(passages.Count, await _cluster.Database.ScalarAsync<long>(
            "SELECT count(*) FROM transcript_chunks WHERE provider = 'local-minilm' AND cardinality(embedding) = 384"));

        // A paraphrase sharing no word with its passage finds it first, by meaning.
        var paraphrases = set.Queries.Where(q => q.Kind == "paraphrase" && q.Relevant[0].StartsWith("energy-", StringComparison.Ordinal)).ToList();
        var found = 0;
        foreach (var query in paraphrases)
        {
            var result = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/search?q={Uri.EscapeDataString(query.Text)}&limit=5");
            Assert.Equal("local-minilm", result.GetProperty("byMeaning").GetProperty("provider").GetString());
            var expected = passages.FindIndex(p => p.Id == query.Relevant[0]);
            var items = result.GetProperty("items").EnumerateArray().ToList();
            if (items.Any(h => h.GetProperty("passage").GetInt32() == expected))
            {
                found++;
                var hit = items.First(h => h.GetProperty("passage").GetInt32() == expected);
                Assert.Equal(projectId.ToString(), hit.GetProperty("projectId").GetString());
                Assert.Equal("Home energy", hit.GetProperty("projectTitle").GetString());
                Assert.Equal(expected * 30.0, hit.GetProperty("start").GetDouble());
                Assert.True(hit.GetProperty("vectorScore").GetDouble() >= 0.25);
                Assert.Equal(0, hit.GetProperty("textScore").GetDouble());
            }
        }

        Assert.True(found >= paraphrases.Count - 1, $"{found} of {paraphrases.Count} paraphrases found in the first five hits");

        // Pages: two at a time, no passage twice, until nextCursor is null; a made-up cursor is refused.
        var seen = new List<int>();
        string? cursor = null;
        for (var page = 0; page < 20; page++)
        {
            var url = $"/api/search?q={Uri.EscapeDataString("battery charge power")}&limit=2" + (cursor is null ? "" : $"&cursor={cursor}");
            var result = await _cluster.Http.GetFromJsonAsync<JsonElement>(url);
            var items = result.GetProperty("items").EnumerateArray().ToList();
            Assert.InRange(items.Count, 1, 2);
            seen.AddRange(items.Select(h => h.GetProperty("passage").GetInt32()));
            cursor = result.GetProperty("nextCursor").GetString();
            if (cursor is null)
            {
                break;
            }
        }

        Assert.True(seen.Count > 2, $"only {seen.Count} hits");
        Assert.Equal(seen.Count, seen.Distinct().Count());
        using var bad = await _cluster.Http.GetAsync("/api/search?q=battery&cursor=not-a-cursor");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }
}
