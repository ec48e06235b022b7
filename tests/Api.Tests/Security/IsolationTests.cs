using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MediaActors.Api.Tests.EndToEnd;
using MediaActors.Api.Tests.Realtime;

namespace MediaActors.Api.Tests.Security;

/// <summary>Another user's resources answer 404 on every route and hub method, and nothing of theirs changes.</summary>
public sealed class IsolationTests : IAsyncLifetime
{
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        // A valid key is remembered for 2 s per API host (Auth:KeyCacheSeconds, 10 s by default).
        _cluster = await PipelineCluster.StartAsync(configure: s => s["Auth:KeyCacheSeconds"] = "2");
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task A_second_user_gets_404_on_every_route_for_the_first_users_resources()
    {
        // The owner (development API key) has a completed project, an upload of it and an API key.
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media));
        var uploadId = upload.GetProperty("uploadId").GetString()!;
        var id = (await _cluster.CreateProjectAsync(new { uploadId })).GetProperty("id").GetString()!;
        var before = await _cluster.WaitForStatusAsync(id, "completed", TimeSpan.FromMinutes(3));
        var pending = await _cluster.Http.PostAsJsonAsync("/api/uploads", new { fileName = "b.mp4", contentType = "video/mp4", sizeBytes = 10 });
        var pendingId = (await pending.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("uploadId").GetString()!;
        var ownerKey = await (await _cluster.Http.PostAsJsonAsync("/api/keys", new { name = "owner's second key" })).Content.ReadFromJsonAsync<JsonElement>();
        var ownerKeyId = ownerKey.GetProperty("id").GetString()!;

        using var intruder = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        intruder.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PipelineCluster.Jwt("intruder"));
        Assert.Equal(HttpStatusCode.OK, (await intruder.GetAsync("/api/projects")).StatusCode);

        var routes = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Get, $"/api/projects/{id}", null),
            (HttpMethod.Get, $"/api/projects/{id}/transcript", null),
            (HttpMethod.Get, $"/api/projects/{id}/transcript.srt", null),
            (HttpMethod.Get, $"/api/projects/{id}/transcript.vtt", null),
            (HttpMethod.Get, $"/api/projects/{id}/transcript.txt", null),
            (HttpMethod.Get, $"/api/projects/{id}/analysis", null),
            (HttpMethod.Get, $"/api/projects/{id}/content", null),
            (HttpMethod.Get, $"/api/projects/{id}/events", null),
            (HttpMethod.Get, $"/api/projects/{id}/events/stream", null),
            (HttpMethod.Post, $"/api/projects/{id}/cancel", null),
            (HttpMethod.Post, $"/api/projects/{id}/retry", null),
            (HttpMethod.Delete, $"/api/projects/{id}", null),
            (HttpMethod.Post, $"/api/uploads/{uploadId}/complete", null),
            (HttpMethod.Post, $"/api/uploads/{pendingId}/complete", null),
            (HttpMethod.Post, "/api/projects", new { uploadId = pendingId }),
            (HttpMethod.Delete, $"/api/keys/{ownerKeyId}", null),
        };
        foreach (var (method, path, body) in routes)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            var response = await intruder.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        var list = await intruder.GetFromJsonAsync<JsonElement>("/api/projects");
        Assert.Empty(list.GetProperty("items").EnumerateArray());
        var word = (await _cluster.Http.GetStringAsync($"/api/projects/{id}/transcript.txt")).Split(' ', StringSplitOptions.RemoveEmptyEntries).First();
        Assert.Empty((await intruder.GetFromJsonAsync<JsonElement>($"/api/search?q={Uri.EscapeDataString(word)}")).GetProperty("items").EnumerateArray());
        Assert.Empty((await intruder.GetFromJsonAsync<JsonElement>("/api/keys")).GetProperty("items").EnumerateArray());

        // Hub: subscribing to the project fails as if it did not exist.
        var (client, first) = await NodeSignalRClient.StartAsync(_cluster.Http.BaseAddress!, PipelineCluster.Jwt("intruder"), "completed", id);
        await using (client)
        {
            Assert.StartsWith("FAILED", first);
            Assert.Contains("not found", first);
        }

        // Nothing of the owner's changed.
        var after = await _cluster.GetProjectAsync(id);
        Assert.Equal("completed", after.GetProperty("status").GetString());
        Assert.Equal(before.GetProperty("updatedAt").GetString(), after.GetProperty("updatedAt").GetString());
        Assert.Equal("pending", await _cluster.Database.ScalarAsync<string>("SELECT status FROM uploads WHERE id = $1", Guid.Parse(pendingId)));
        Assert.Null(await _cluster.Database.ScalarAsync<object?>("SELECT revoked_at FROM api_keys WHERE id = $1", Guid.Parse(ownerKeyId)) as DateTime?);
        using var second = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        second.DefaultRequestHeaders.Add("X-Api-Key", ownerKey.GetProperty("key").GetString());
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync($"/api/projects/{id}")).StatusCode);
    }

    [Fact]
    public async Task Api_keys_are_shown_once_listed_without_secret_and_revocable()
    {
        var created = await _cluster.Http.PostAsJsonAsync("/api/keys", new { name = "ci" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        var secret = key.GetProperty("key").GetString()!;
        Assert.StartsWith("ma_", secret);

        var listed = await _cluster.Http.GetStringAsync("/api/keys");
        Assert.Contains("\"ci\"", listed);
        Assert.DoesNotContain(secret, listed);
        Assert.DoesNotContain(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret))), listed, StringComparison.OrdinalIgnoreCase);

        using var client = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        client.DefaultRequestHeaders.Add("X-Api-Key", secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/projects")).StatusCode);
        // A second API host has seen (and remembers) the key too.
        using var other = new HttpClient { BaseAddress = await _cluster.StartApiAsync() };
        other.DefaultRequestHeaders.Add("X-Api-Key", secret);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _cluster.Http.DeleteAsync($"/api/keys/{key.GetProperty("id").GetString()}")).StatusCode);
        // Refused at once by the host that revoked it, and by the other within Auth:KeyCacheSeconds.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/projects")).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(HttpStatusCode.Unauthorized, (await other.GetAsync("/api/projects")).StatusCode);
        Assert.NotNull(await _cluster.Database.ScalarAsync<object?>("SELECT last_used_at FROM api_keys WHERE id = $1", Guid.Parse(key.GetProperty("id").GetString()!)) as DateTime?);

        // A JWT with a wrong signature or an expired one is refused.
        using var forged = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        forged.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PipelineCluster.Jwt("someone")[..^4] + "AAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/api/projects")).StatusCode);
        forged.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PipelineCluster.Jwt("someone", TimeSpan.FromMinutes(-10)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/api/projects")).StatusCode);
    }
}

/// <summary>Rate limiting per user, and the in-flight project limit.</summary>
public sealed class LimitTests : IAsyncLifetime
{
    private PipelineCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await PipelineCluster.StartAsync(configure: s =>
    {
        s["Limits:RequestsPerWindow"] = "20";
        s["Limits:Window"] = "00:01:00";
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_user_over_the_rate_limit_gets_429_with_retry_after_while_another_user_is_served()
    {
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 25 && limited is null; i++)
        {
            var response = await _cluster.Http.GetAsync("/api/projects");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta is { TotalSeconds: > 0 }, "Retry-After is missing");
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        using var other = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PipelineCluster.Jwt("someone-else"));
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _cluster.Http.GetAsync("/health")).StatusCode);
    }
}
