using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>The operator's view: the cluster-wide overview, and the Orleans Dashboard on the API host.</summary>
public sealed class OperatorTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(3);
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _cluster = await PipelineCluster.StartAsync(configure: s =>
        {
            // The development key's user is the operator; the Google client is configured (never called) so the quota shows.
            s["Auth:Operators:0"] = "dev";
            s["Projects:MaxStepAttempts"] = "2";
            s["Google:ClientId"] = "operator-test-client";
            s["Google:ClientSecret"] = "operator-test-secret";
            s["Google:RedirectUri"] = "http://mediaactors.test/api/google/callback";
        });
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    private HttpClient As(string user)
    {
        var client = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PipelineCluster.Jwt(user));
        return client;
    }

    [Fact]
    public async Task Operator_overview_shows_every_users_steps_errors_publish_queue_quota_and_silos_and_refuses_others()
    {
        using var stranger = As("not-an-operator");
        using var refused = await stranger.GetAsync("/api/operator/overview");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        using var anonymous = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/operator/overview")).StatusCode);

        // One project completes (the operator's), one fails at download (another user's: a link that answers 404).
        await TestMedia.SpokenVideoAsync(_media, "talk.mp4");
        await using var server = await LocalMediaServer.StartAsync(_media);
        var completed = await _cluster.CreateProjectAsync(new { url = server.Url("talk.mp4") });
        using var other = As("someone-else");
        using var created = await other.PostAsync("/api/projects",
            new StringContent(JsonSerializer.Serialize(new { url = server.Url("missing.mp4") }), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var failedId = (await PipelineCluster.ReadJsonAsync(created)).GetProperty("id").GetString()!;
        await _cluster.WaitForStatusAsync(completed.GetProperty("id").GetString()!, "completed", Wait);

        // Publish jobs of two users, written as the grains write the read model (Google itself is not involved here).
        var oldest = DateTime.UtcNow.AddMinutes(-30);
        await _cluster.Database.ExecuteAsync(
            $$"""
            INSERT INTO publish_jobs (id, user_id, status, progress, source, metadata, md5, created_at, updated_at, version) VALUES
            ('{{Guid.NewGuid()}}', 'u1', 'pending', 0, '{}', '{"title":"First"}', 'a', '{{oldest:O}}', now(), 1),
            ('{{Guid.NewGuid()}}', 'u2', 'pending', 0, '{}', '{"title":"Second"}', 'b', '{{oldest.AddMinutes(5):O}}', now(), 1),
            ('{{Guid.NewGuid()}}', 'u2', 'uploading', 40, '{}', '{"title":"Third"}', 'c', '{{oldest.AddMinutes(1):O}}', now(), 1),
            ('{{Guid.NewGuid()}}', 'u1', 'completed', 100, '{}', '{"title":"Done"}', 'd', '{{oldest.AddMinutes(-60):O}}', now(), 1)
            """);

        // Answers are cached for 5 s: ask until the failure is in.
        JsonElement overview = default;
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            using var response = await _cluster.Http.GetAsync("/api/operator/overview");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            overview = await PipelineCluster.ReadJsonAsync(response);
            if (overview.GetProperty("projects").GetProperty("byStatus").TryGetProperty("failed", out var failedCount) && failedCount.GetInt64() == 1
                && overview.GetProperty("publishQueue").GetProperty("byStatus").TryGetProperty("pending", out _))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The overview never showed the failed project and the publish jobs: {overview}");
            await Task.Delay(1000);
        }

        Assert.True(overview.GetProperty("generatedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        var steps = overview.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("step").GetString()!);
        Assert.Equal("downloading", steps.Keys.First());
        var transcribing = steps["transcribing"];
        Assert.Equal(1, transcribing.GetProperty("completed").GetInt64());
        Assert.Equal(0, transcribing.GetProperty("failed").GetInt64());
        Assert.True(transcribing.GetProperty("p50Seconds").GetDouble() > 0);
        Assert.True(transcribing.GetProperty("p95Seconds").GetDouble() >= transcribing.GetProperty("p50Seconds").GetDouble());
        Assert.Empty(transcribing.GetProperty("lastErrors").EnumerateArray());
        var downloading = steps["downloading"];
        Assert.Equal(1, downloading.GetProperty("completed").GetInt64());
        Assert.Equal(1, downloading.GetProperty("failed").GetInt64());
        var error = Assert.Single(downloading.GetProperty("lastErrors").EnumerateArray());
        Assert.Equal(failedId, error.GetProperty("projectId").GetString());
        Assert.Contains("404", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.True(error.GetProperty("at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        var projects = overview.GetProperty("projects").GetProperty("byStatus");
        Assert.Equal(1, projects.GetProperty("completed").GetInt64());

        var queue = overview.GetProperty("publishQueue");
        Assert.Equal(2, queue.GetProperty("byStatus").GetProperty("pending").GetInt64());
        Assert.Equal(1, queue.GetProperty("byStatus").GetProperty("uploading").GetInt64());
        Assert.Equal(1, queue.GetProperty("byStatus").GetProperty("completed").GetInt64());
        Assert.Equal(new DateTimeOffset(oldest, TimeSpan.Zero), queue.GetProperty("oldestPendingAt").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        var jobs = queue.GetProperty("jobs").EnumerateArray().ToList();
        Assert.Equal(["First", "Third", "Second"], jobs.Select(j => j.GetProperty("title").GetString()));
        Assert.Equal(["u1", "u2", "u2"], jobs.Select(j => j.GetProperty("userId").GetString()));
        Assert.Equal(40, jobs[1].GetProperty("progress").GetInt32());
        Assert.Equal("uploading", jobs[1].GetProperty("status").GetString());

        var quota = Assert.Single(overview.GetProperty("quota").EnumerateArray());
        Assert.Equal("operator-test-client", quota.GetProperty("client").GetString());
        Assert.Equal(0, quota.GetProperty("usedUnits").GetInt32());
        Assert.Equal(10000, quota.GetProperty("dailyUnits").GetInt32());
        Assert.False(quota.GetProperty("paused").GetBoolean());
        Assert.True(quota.GetProperty("resetsAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);

        Assert.Equal(JsonValueKind.Object, overview.GetProperty("videos").GetProperty("byStatus").ValueKind);
        var silo = Assert.Single(overview.GetProperty("silos").EnumerateArray());
        Assert.Equal("Active", silo.GetProperty("status").GetString());
        Assert.StartsWith("127.0.0.1:", silo.GetProperty("address").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dashboard_answers_loopback_and_a_dashboard_session_is_a_strict_cookie_for_operators_only()
    {
        // Tests run on loopback: the dashboard answers (its page and its API, which asks the silo's dashboard grain).
        using var local = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        using var page = await local.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await local.GetAsync("/dashboard/version")).StatusCode);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        HttpStatusCode counters;
        while ((counters = (await local.GetAsync("/dashboard/DashboardCounters")).StatusCode) != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }

        Assert.Equal(HttpStatusCode.OK, counters);

        using var noCookies = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = _cluster.Http.BaseAddress };
        using var session = new HttpRequestMessage(HttpMethod.Post, "/api/operator/dashboard-session");
        session.Headers.Add("X-Api-Key", _cluster.ApiKey);
        using var opened = await noCookies.SendAsync(session);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        var cookie = Assert.Single(opened.Headers.GetValues("Set-Cookie"));
        var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).ToList();
        Assert.StartsWith("MediaActors.Dashboard=", cookie, StringComparison.Ordinal);
        Assert.Contains("path=/dashboard", attributes, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("httponly", attributes, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", attributes, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", attributes, StringComparer.OrdinalIgnoreCase); // plain http here; https requests get Secure
        var expires = DateTimeOffset.Parse(attributes.Single(a => a.StartsWith("expires=", StringComparison.OrdinalIgnoreCase))["expires=".Length..],
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61));

        // The cookie opens the dashboard (on loopback it is open anyway; the rule for other addresses is tested in DashboardAccessTests).
        using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/dashboard/version");
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await noCookies.SendAsync(withCookie)).StatusCode);

        using var stranger = As("not-an-operator");
        using var refused = await stranger.PostAsync("/api/operator/dashboard-session", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Set-Cookie"));
        using var anonymous = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/operator/dashboard-session", null)).StatusCode);
    }
}
