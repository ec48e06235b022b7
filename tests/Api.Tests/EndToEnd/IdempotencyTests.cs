using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MediaActors.Api.Idempotency;
using MediaActors.Providers.Tests.Fakes;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>
/// Issue 13, safe retries, through API host and silo processes: concurrent duplicates with one Idempotency-Key create one
/// upload, project, publish job and avatar video and all get the same answer; a retry replays the first answer and
/// creates nothing; another body is 422; keys are per user; bad keys are 400; an error answer is not kept; and an API
/// host killed between a create and its answer (the test hook) leaves one project, which a retry on a new host finds.
/// Each test has a user of its own, so counts of rows are exact.
/// </summary>
public sealed class IdempotencyTests : IAsyncLifetime
{
    private const string Secret = ConnectedServers.Secret;
    private ConnectedServers _servers = null!;
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _servers = await ConnectedServers.StartAsync();
        _cluster = await PipelineCluster.StartAsync(configure: s =>
        {
            _servers.Configure(s);
            // Duplicates wait for the first request's answer, however slow a loaded machine makes it.
            s["Idempotency:WaitForInProgress"] = "00:01:00";
        });
        _media = Directory.CreateTempSubdirectory("ma-idempotency-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _servers.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    private sealed record Answer(HttpStatusCode Status, string Body, string? Location, string? ContentType, bool Replayed, string? RetryAfter)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

        /// <summary>What a replay must repeat exactly.</summary>
        public (HttpStatusCode, string, string?, string?) Essence => (Status, Body, Location, ContentType);
    }

    [Fact]
    public async Task Eight_concurrent_duplicates_create_one_upload_and_one_project_and_all_get_the_same_answer()
    {
        var user = NewUser();
        using var http = As(user);
        var uploads = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            PostAsync(http, "/api/uploads", Json(new { fileName = "talk.mp4", contentType = "video/mp4", sizeBytes = 1000 }), "upload-1")));
        Assert.All(uploads, a => Assert.Equal(HttpStatusCode.Created, a.Status));
        Assert.Single(uploads.Select(a => a.Essence).Distinct());
        Assert.Equal(7, uploads.Count(a => a.Replayed));
        var uploadId = uploads[0].Json.GetProperty("uploadId").GetString();
        Assert.Equal($"/api/uploads/{uploadId}", uploads[0].Location);
        Assert.Equal(1, await CountAsync("uploads", user));

        // Without a key, seven of these would be refused: the upload belongs to the first one's project.
        var projects = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            PostAsync(http, "/api/projects", Json(new { uploadId, title = "Launch talk" }), "project-1")));
        Assert.All(projects, a => Assert.Equal(HttpStatusCode.Accepted, a.Status));
        Assert.Single(projects.Select(a => a.Essence).Distinct());
        Assert.Equal(7, projects.Count(a => a.Replayed));
        var projectId = projects[0].Json.GetProperty("id").GetString();
        Assert.Equal($"/api/projects/{projectId}", projects[0].Location);
        Assert.Equal("uploading", projects[0].Json.GetProperty("status").GetString());
        Assert.Equal(1, await CountAsync("projects", user));
        Assert.Equal(projectId, (await _cluster.Database.ScalarAsync<Guid>("SELECT project_id FROM uploads WHERE user_id = $1", user)).ToString());
    }

    [Fact]
    public async Task A_retry_gets_the_first_answer_again_and_creates_nothing_while_a_request_without_a_key_creates_as_before()
    {
        var user = NewUser();
        using var http = As(user);
        var body = Json(new { fileName = "talk.mp4", contentType = "video/mp4", sizeBytes = 1000 });
        var first = await PostAsync(http, "/api/uploads", body, "retry-me");
        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.False(first.Replayed);

        var again = await PostAsync(http, "/api/uploads", body, "retry-me");
        Assert.True(again.Replayed);
        Assert.Equal(first.Essence, again.Essence);
        Assert.Equal("application/json", again.ContentType);
        Assert.Equal(1, await CountAsync("uploads", user));
        Assert.Equal(201, await _cluster.Database.ScalarAsync<int>("SELECT response_status FROM idempotency_keys WHERE user_id = $1", user));

        var withoutKey = await PostAsync(http, "/api/uploads", body, key: null);
        Assert.Equal(HttpStatusCode.Created, withoutKey.Status);
        Assert.NotEqual(first.Location, withoutKey.Location);
        Assert.Equal(2, await CountAsync("uploads", user));
    }

    [Fact]
    public async Task The_same_key_with_another_body_or_on_another_endpoint_is_422_and_creates_nothing()
    {
        var user = NewUser();
        using var http = As(user);
        var first = await PostAsync(http, "/api/uploads", Json(new { fileName = "a.mp4", contentType = "video/mp4", sizeBytes = 1000 }), "k-422");
        Assert.Equal(HttpStatusCode.Created, first.Status);

        var otherBody = await PostAsync(http, "/api/uploads", Json(new { fileName = "b.mp4", contentType = "video/mp4", sizeBytes = 1000 }), "k-422");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherBody.Status);
        Assert.Equal("application/problem+json", otherBody.ContentType);
        Assert.Contains("Idempotency-Key", otherBody.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var otherEndpoint = await PostAsync(http, "/api/projects", Json(new { uploadId = first.Json.GetProperty("uploadId").GetString() }), "k-422");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherEndpoint.Status);
        Assert.Equal(1, await CountAsync("uploads", user));
        Assert.Equal(0, await CountAsync("projects", user));

        // The first request's answer is still there.
        Assert.Equal(first.Essence, (await PostAsync(http, "/api/uploads", Json(new { fileName = "a.mp4", contentType = "video/mp4", sizeBytes = 1000 }), "k-422")).Essence);
    }

    [Fact]
    public async Task A_key_past_its_lifetime_counts_as_unused()
    {
        var user = NewUser();
        using var http = As(user);
        var first = await PostAsync(http, "/api/uploads", Json(new { fileName = "a.mp4", contentType = "video/mp4", sizeBytes = 1000 }), "old-key");
        Assert.Equal(HttpStatusCode.Created, first.Status);

        // 24 hours later (moved back instead of waited for): the key is free for any request, and makes a new thing.
        await _cluster.Database.ExecuteAsync($"UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE user_id = '{user}'");
        var later = await PostAsync(http, "/api/uploads", Json(new { fileName = "b.mp4", contentType = "video/mp4", sizeBytes = 1000 }), "old-key");
        Assert.Equal(HttpStatusCode.Created, later.Status);
        Assert.False(later.Replayed);
        Assert.NotEqual(first.Location, later.Location);
        Assert.Equal(2, await CountAsync("uploads", user));
        Assert.Equal(later.Essence, (await PostAsync(http, "/api/uploads", Json(new { fileName = "b.mp4", contentType = "video/mp4", sizeBytes = 1000 }), "old-key")).Essence);
    }

    [Fact]
    public async Task Keys_are_per_user_another_user_with_the_same_key_and_body_gets_a_thing_of_their_own()
    {
        var (alice, bob) = (NewUser(), NewUser());
        using var asAlice = As(alice);
        using var asBob = As(bob);
        var body = Json(new { fileName = "talk.mp4", contentType = "video/mp4", sizeBytes = 1000 });
        var hers = await PostAsync(asAlice, "/api/uploads", body, "shared-key");
        var his = await PostAsync(asBob, "/api/uploads", body, "shared-key");
        Assert.Equal(HttpStatusCode.Created, his.Status);
        Assert.False(his.Replayed);
        Assert.NotEqual(hers.Location, his.Location);
        Assert.Equal(1, await CountAsync("uploads", alice));
        Assert.Equal(1, await CountAsync("uploads", bob));
        Assert.Equal(his.Json.GetProperty("uploadId").GetString(),
            (await _cluster.Database.ScalarAsync<Guid>("SELECT id FROM uploads WHERE user_id = $1", bob)).ToString());
        Assert.Equal(his.Essence, (await PostAsync(asBob, "/api/uploads", body, "shared-key")).Essence);
    }

    [Fact]
    public async Task A_bad_key_is_400_and_post_api_keys_refuses_a_key_because_its_secret_is_never_stored()
    {
        var user = NewUser();
        using var http = As(user);
        var body = Json(new { fileName = "talk.mp4", contentType = "video/mp4", sizeBytes = 1000 });
        foreach (var bad in new[] { "", new string('k', 256), "tab\there" })
        {
            var answer = await PostAsync(http, "/api/uploads", body, bad);
            Assert.True(answer.Status == HttpStatusCode.BadRequest, $"'{bad}': {answer}");
            Assert.Equal("application/problem+json", answer.ContentType);
        }

        Assert.Equal(0, await CountAsync("uploads", user));
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(http, "/api/uploads", body, new string('~', 255))).Status);
        Assert.Equal(1, await CountAsync("uploads", user));

        var key = await PostAsync(http, "/api/keys", Json(new { name = "ci" }), "key-1");
        Assert.Equal(HttpStatusCode.BadRequest, key.Status);
        Assert.Contains("shown once", key.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync("api_keys", user));
        // Only the good key was remembered.
        Assert.Equal(1, await CountAsync("idempotency_keys", user));
    }

    [Fact]
    public async Task A_publish_refused_before_google_is_connected_is_not_kept_and_eight_concurrent_duplicates_then_queue_one_job()
    {
        var user = NewUser();
        using var http = As(user);
        var uploadId = await UploadAsync(http, await TestMedia.SpokenVideoAsync(_media, "publish-me.mp4"));
        var body = Json(new { source = new { uploadId }, privacy = "unlisted" });

        var refused = await PostAsync(http, "/api/publish", body, "publish-1");
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        var reserved = await _cluster.Database.ScalarAsync<Guid>("SELECT resource_id FROM idempotency_keys WHERE user_id = $1", user);

        await PublishTests.ConnectAsync(http);
        // Without a key, seven of these would be 409: the same file is queued already.
        var jobs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => PostAsync(http, "/api/publish", body, "publish-1")));
        Assert.All(jobs, a => Assert.Equal(HttpStatusCode.Accepted, a.Status));
        Assert.Single(jobs.Select(a => a.Essence).Distinct());
        Assert.Equal(7, jobs.Count(a => a.Replayed));
        var jobId = jobs[0].Json.GetProperty("id").GetString();
        Assert.Equal($"/api/publish/{jobId}", jobs[0].Location);
        // The refused attempt's reserved id is the job's: a refusal keeps the key's id for the retry.
        Assert.Equal(reserved.ToString(), jobId);
        Assert.Equal(1, await CountAsync("publish_jobs", user));

        // An answer that was never kept (as if the host died before): the retry queues with the same id and finds the job.
        await ForgetAnswersAsync(user);
        var rerun = await PostAsync(http, "/api/publish", body, "publish-1");
        Assert.Equal(HttpStatusCode.Accepted, rerun.Status);
        Assert.False(rerun.Replayed);
        Assert.Equal(jobId, rerun.Json.GetProperty("id").GetString());
        Assert.Equal(1, await CountAsync("publish_jobs", user));

        // A folder watch: created once, answered the same.
        var watch = Json(new { blobPrefix = "talks/", schedule = "PT1H" });
        var folder = await PostAsync(http, "/api/publish/folders", watch, "folder-1");
        Assert.Equal(HttpStatusCode.Created, folder.Status);
        Assert.Equal($"/api/publish/folders/{folder.Json.GetProperty("id").GetString()}", folder.Location);
        Assert.Equal(folder.Essence, (await PostAsync(http, "/api/publish/folders", watch, "folder-1")).Essence);
        Assert.Equal(1, await CountAsync("publish_folders", user));
    }

    [Fact]
    public async Task Eight_concurrent_duplicates_request_one_avatar_video_dispatched_once()
    {
        var user = NewUser();
        using var http = As(user);
        var script = Json(new
        {
            title = "Spring update",
            hook = "Did you know spring is the best time to sell?",
            body = "Inventory is low and buyers are back.",
            conclusion = "Call us today.",
            avatarBody = "anna",
        });
        var videos = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => PostAsync(http, "/api/videos/generate", script, "video-1")));
        Assert.All(videos, a => Assert.Equal(HttpStatusCode.Accepted, a.Status));
        Assert.Single(videos.Select(a => a.Essence).Distinct());
        Assert.Equal(7, videos.Count(a => a.Replayed));
        var id = videos[0].Json.GetProperty("id").GetString()!;
        Assert.Equal($"/api/videos/{id}", videos[0].Location);
        await _servers.Generator.DispatchOfAsync(id);
        Assert.Equal(1, await CountAsync("videos", user));

        // An answer that was never kept: the retry requests with the same id and gets the video already requested.
        await ForgetAnswersAsync(user);
        var rerun = await PostAsync(http, "/api/videos/generate", script, "video-1");
        Assert.Equal(HttpStatusCode.Accepted, rerun.Status);
        Assert.Equal(id, rerun.Json.GetProperty("id").GetString());
        Assert.Equal(1, await CountAsync("videos", user));
        Assert.Single(_servers.Generator.Dispatches, d => d.Body.GetProperty("videoId").GetString() == id);

        // The form endpoint takes a key as well.
        var form = Json(new { prompt = "Announce our spring open house.", avatar = "marcus", name = "Dana Reyes", email = "dana@example.com" });
        var fromForm = await PostAsync(http, "/api/videos", form, "video-2");
        Assert.Equal(HttpStatusCode.Accepted, fromForm.Status);
        Assert.Equal(fromForm.Essence, (await PostAsync(http, "/api/videos", form, "video-2")).Essence);
        Assert.Equal(2, await CountAsync("videos", user));
    }

    [Fact]
    public async Task An_upload_and_a_project_whose_answers_were_never_kept_are_found_again_by_the_retry_not_made_twice()
    {
        var user = NewUser();
        using var http = As(user);
        var uploadBody = Json(new { fileName = "talk.mp4", contentType = "video/mp4", sizeBytes = 1000 });
        var upload = await PostAsync(http, "/api/uploads", uploadBody, "lost-1");
        var uploadId = upload.Json.GetProperty("uploadId").GetString();
        var projectBody = Json(new { uploadId });
        var project = await PostAsync(http, "/api/projects", projectBody, "lost-2");
        Assert.Equal(HttpStatusCode.Accepted, project.Status);

        await ForgetAnswersAsync(user);
        var uploadAgain = await PostAsync(http, "/api/uploads", uploadBody, "lost-1");
        Assert.Equal(HttpStatusCode.Created, uploadAgain.Status);
        Assert.False(uploadAgain.Replayed);
        Assert.Equal(upload.Location, uploadAgain.Location);
        Assert.Equal(upload.Json.GetProperty("expiresAt").GetDateTimeOffset(), uploadAgain.Json.GetProperty("expiresAt").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        var projectAgain = await PostAsync(http, "/api/projects", projectBody, "lost-2");
        Assert.Equal(HttpStatusCode.Accepted, projectAgain.Status);
        Assert.Equal(project.Location, projectAgain.Location);
        Assert.Equal(1, await CountAsync("uploads", user));
        Assert.Equal(1, await CountAsync("projects", user));
    }

    [Fact]
    public async Task A_retry_after_the_api_host_was_killed_between_the_create_and_its_answer_gets_the_one_project_from_a_new_host()
    {
        var user = NewUser();
        using var http = As(user);
        var upload = await PostAsync(http, "/api/uploads", Json(new { fileName = "talk.mp4", contentType = "video/mp4", sizeBytes = 1000 }), key: null);
        var projectBody = Json(new { uploadId = upload.Json.GetProperty("uploadId").GetString(), title = "Crash course" });

        // A host that kills itself once the project is created, before the answer is kept (a lease long enough to be seen).
        var doomed = await _cluster.StartApiAsync(s =>
        {
            s[IdempotencyMiddleware.KillBeforeStoringHook] = "true";
            s["Idempotency:ClaimLease"] = "00:10:00";
        });
        var doomedHost = _cluster.Apis[^1];
        using (var toDoomed = As(user, doomed))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => PostAsync(toDoomed, "/api/projects", projectBody, "crash-1"));
        }

        Assert.True(await doomedHost.WaitForExitAsync(TimeSpan.FromSeconds(30)), "The API host did not die.");
        Assert.Contains(IdempotencyMiddleware.KillBeforeStoringHook, doomedHost.Output, StringComparison.Ordinal);
        // Created, not answered: the key is claimed with no answer, and the project has the key's reserved id.
        var reserved = await _cluster.Database.ScalarAsync<Guid>("SELECT resource_id FROM idempotency_keys WHERE user_id = $1 AND response_status IS NULL AND claim_token IS NOT NULL", user);
        Assert.Equal(reserved, await _cluster.Database.ScalarAsync<Guid>("SELECT id FROM projects WHERE user_id = $1", user));

        // A new host, allowing one project in flight (the user has it: the dead host's). While the dead host's claim still
        // has its lease, a retry is told to come back later.
        var fresh = await _cluster.StartApiAsync(s =>
        {
            s["Idempotency:WaitForInProgress"] = "00:00:00.300";
            s["Limits:MaxProjectsInFlight"] = "1";
        });
        using var toFresh = As(user, fresh);
        var early = await PostAsync(toFresh, "/api/projects", projectBody, "crash-1");
        Assert.Equal(HttpStatusCode.Conflict, early.Status);
        Assert.Equal("application/problem+json", early.ContentType);
        Assert.InRange(int.Parse(early.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture), 1, 600);

        // The lease runs out (moved back instead of waited for): the retry takes over and gets the project the dead host made.
        await _cluster.Database.ExecuteAsync($"UPDATE idempotency_keys SET lease_until = now() - interval '1 second' WHERE user_id = '{user}'");
        var retry = await PostAsync(toFresh, "/api/projects", projectBody, "crash-1");
        Assert.True(retry.Status == HttpStatusCode.Accepted, retry.ToString());
        Assert.False(retry.Replayed);
        Assert.Equal(reserved.ToString(), retry.Json.GetProperty("id").GetString());
        Assert.Equal($"/api/projects/{reserved}", retry.Location);
        Assert.Equal("Crash course", retry.Json.GetProperty("title").GetString());
        Assert.Equal(1, await CountAsync("projects", user));
        // The retry was not counted as a second project in flight; a new one is.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostAsync(toFresh, "/api/projects", Json(new { url = "https://example.com/talk.mp4" }), key: null)).Status);
        Assert.Equal(reserved, await _cluster.Database.ScalarAsync<Guid>("SELECT project_id FROM uploads WHERE user_id = $1", user));

        // From now on its answer is replayed, on any host.
        Assert.Equal(retry.Essence, (await PostAsync(http, "/api/projects", projectBody, "crash-1")).Essence);
    }

    [Fact]
    public async Task The_openapi_document_shows_the_header_on_the_create_endpoints_that_take_it()
    {
        var paths = (await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/openapi/v1.json"))).GetProperty("paths");
        bool Takes(string path, string method) =>
            paths.GetProperty(path).GetProperty(method).TryGetProperty("parameters", out var parameters)
            && parameters.EnumerateArray().Any(p => p.GetProperty("name").GetString() == IdempotencyKeys.Header && p.GetProperty("in").GetString() == "header");
        Assert.All(new[] { "/api/projects", "/api/uploads", "/api/publish", "/api/publish/folders", "/api/videos", "/api/videos/generate" },
            path => Assert.True(Takes(path, "post"), path));
        Assert.False(Takes("/api/keys", "post"));
        Assert.False(Takes("/api/projects/{id}/cancel", "post"));
    }

    private static string NewUser() => $"idem-{Guid.NewGuid():N}"[..21];

    private HttpClient As(string user, Uri? baseAddress = null)
    {
        var http = new HttpClient { BaseAddress = baseAddress ?? _cluster.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(90) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PipelineCluster.Jwt(user));
        return http;
    }

    private static string Json(object value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);

    private static Task<Answer> PostAsync(HttpClient http, string path, string json, string? key) =>
        PostAsync(http, path, json, key is null ? [] : [key]);

    /// <summary>POSTs the same bytes each time (a retry sends what the first request sent), with these Idempotency-Key values.</summary>
    private static async Task<Answer> PostAsync(HttpClient http, string path, string json, string[] keys)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        foreach (var key in keys)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyKeys.Header, key);
        }

        using var response = await http.SendAsync(request);
        return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location?.ToString(),
            response.Content.Headers.ContentType?.MediaType, response.Headers.TryGetValues(IdempotencyKeys.ReplayedHeader, out var replayed) && replayed.Single() == "true",
            response.Headers.RetryAfter?.Delta is { } delta ? ((int)delta.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
    }

    private async Task<long> CountAsync(string table, string user) =>
        await _cluster.Database.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE user_id = $1", user);

    /// <summary>What an API host that died after the create leaves once its lease ran out: the key with its reserved id, no answer, no claim.</summary>
    private Task ForgetAnswersAsync(string user) =>
        _cluster.Database.ExecuteAsync(
            $"""
            UPDATE idempotency_keys SET response_status = NULL, response_type = NULL, response_location = NULL, response_body = NULL, completed_at = NULL,
                claim_token = NULL, lease_until = NULL
            WHERE user_id = '{user}'
            """);

    /// <summary>A completed direct upload of the user's: create, put the blocks, complete.</summary>
    private static async Task<string> UploadAsync(HttpClient http, string path)
    {
        using var created = await http.PostAsJsonAsync("/api/uploads", new { fileName = Path.GetFileName(path), contentType = "video/mp4", sizeBytes = new FileInfo(path).Length });
        var upload = await PipelineCluster.ReadJsonAsync(created);
        var uploadId = upload.GetProperty("uploadId").GetString()!;
        await PipelineCluster.PutBlocksAsync(upload.GetProperty("uploadUrl").GetString()!, path, 256 * 1024);
        using var complete = await http.PostAsync($"/api/uploads/{uploadId}/complete", null);
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        return uploadId;
    }
}
