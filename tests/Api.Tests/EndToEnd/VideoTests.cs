using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediaActors.Providers.Avatar;
using MediaActors.Providers.Tests.Fakes;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>
/// Flow 5 through the API and silo processes against a local generator that checks MediaActors' signatures and calls
/// the webhooks back: dispatch, completion and download, workflow errors, replays, bad and stale signatures, results
/// that are not videos or sit at a private address, a timeout, retries of a failing dispatch.
/// </summary>
public sealed class VideoTests : IAsyncLifetime
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
        });
        _media = Directory.CreateTempSubdirectory("ma-videos-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _servers.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    /// <summary>The generator on the local server, private networks refused except for it, quick retries and a short timeout.</summary>
    internal static void Configure(Dictionary<string, string?> settings, FakeAvatarGenerator generator)
    {
        settings["Avatar:GeneratorUrl"] = generator.GeneratorUrl.ToString();
        settings["Avatar:Secret"] = generator.Secret;
        settings["Avatar:PublicBaseUrl"] = "http://mediaactors.test/";
        settings["Avatar:RetryBackoff"] = "00:00:00.300";
        settings["Avatar:Timeout"] = "00:00:08";
        settings["Auth:Operators:0"] = "dev";
        settings["Ingestion:AllowPrivateNetworks"] = "false";
        settings["Ingestion:AllowedPrivateEndpoints:0"] = $"127.0.0.1:{generator.BaseAddress.Port}";
    }

    private Uri Webhook(string name) => new(_cluster.Http.BaseAddress!, $"/api/webhooks/{name}");

    private static object Form(string avatar = "marcus", string? voice = null) => new
    {
        prompt = "Announce our spring open house.",
        avatar,
        voice,
        name = "Dana Reyes",
        position = "Broker",
        companyName = "Reyes Realty",
        license = "DRE 0123456",
        tailoredFit = "First-time buyers",
        socialHandles = new[] { "@reyesrealty" },
        videoTopic = "event",
        topicKeyPoints = "Saturday 10-4; free coffee",
        city = "Austin",
        preferredTone = "friendly",
        callToAction = "Book a tour",
        email = "dana@example.com",
    };

    [Fact]
    public async Task A_video_is_dispatched_signed_completed_by_the_generator_downloaded_and_served_and_a_replay_changes_nothing()
    {
        var result = await File.ReadAllBytesAsync(await TestMedia.SpokenVideoAsync(_media, "avatar.mp4"));
        var resultUrl = _servers.Generator.AddFile("avatar.mp4", result);

        using var created = await _cluster.Http.PostAsJsonAsync("/api/videos", Form());
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var video = await PipelineCluster.ReadJsonAsync(created);
        var id = video.GetProperty("id").GetString()!;
        Assert.Equal($"/api/videos/{id}", created.Headers.Location!.ToString());
        Assert.True(video.GetProperty("estimatedReadyAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        // No voice given: the catalog's voice of the avatar's gender (Marcus is male).
        Assert.Equal("male", video.GetProperty("voice").GetProperty("gender").GetString());

        var (dispatch, signature) = await _servers.Generator.DispatchOfAsync(id);
        Assert.Equal(SignatureProblem.None, signature);
        Assert.Equal("video.requested", dispatch.GetProperty("event").GetString());
        Assert.Equal("Announce our spring open house.", dispatch.GetProperty("request").GetProperty("prompt").GetString());
        Assert.Equal(video.GetProperty("voice").GetProperty("id").GetString(), dispatch.GetProperty("request").GetProperty("voice").GetString());
        Assert.Equal("http://mediaactors.test/api/webhooks/video-complete", dispatch.GetProperty("callbackUrl").GetString());
        await WaitForAsync(id, "processing");

        using var complete = await _servers.Generator.CallbackAsync(Webhook("video-complete"), new { videoId = id, eventId = "evt-1", videoUrl = resultUrl });
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        Assert.Equal("applied", (await PipelineCluster.ReadJsonAsync(complete)).GetProperty("outcome").GetString());
        var ready = await WaitForAsync(id, "ready");
        Assert.Equal(result.Length, ready.GetProperty("sizeBytes").GetInt64());
        Assert.True(ready.GetProperty("durationSeconds").GetDouble() > 1);
        Assert.Contains("mp4", ready.GetProperty("format").GetString(), StringComparison.Ordinal);
        using (var download = new HttpClient())
        {
            Assert.Equal(result, await download.GetByteArrayAsync(ready.GetProperty("downloadUrl").GetString()));
        }

        // The same event again: nothing happens twice.
        using var replay = await _servers.Generator.CallbackAsync(Webhook("video-complete"), new { videoId = id, eventId = "evt-1", videoUrl = resultUrl });
        Assert.Equal("replay", (await PipelineCluster.ReadJsonAsync(replay)).GetProperty("outcome").GetString());

        // Its events, in order, over SSE; the gallery and the history.
        var kinds = (await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/videos/{id}/events"))).GetProperty("items").EnumerateArray()
            .Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Equal(["video_created", "video_dispatched", "video_progress", "video_ready"], kinds);
        var gallery = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/videos"));
        Assert.Equal(id, Assert.Single(gallery.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        var history = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/videos/history"));
        Assert.Equal("Dana Reyes", history.GetProperty("items")[0].GetProperty("request").GetProperty("name").GetString());

        // Published to YouTube under its own title.
        await PublishTests.ConnectAsync(_cluster.Http);
        using var publish = await _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { videoId = id } });
        Assert.Equal(HttpStatusCode.Accepted, publish.StatusCode);
        var job = await PipelineCluster.ReadJsonAsync(publish);
        Assert.Equal("Dana Reyes: Event promotion", job.GetProperty("metadata").GetProperty("title").GetString());
        Assert.Equal("video", job.GetProperty("source").GetProperty("kind").GetString());
        var jobId = job.GetProperty("id").GetString();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(100))
        {
            var current = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/publish/{jobId}"));
            if (current.GetProperty("status").GetString() == "completed")
            {
                Assert.Equal(result, _servers.Google.Videos[current.GetProperty("videoId").GetString()!].Content);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The publish job did not complete: {current}");
        }

        // Deleted: the row, and the file.
        var blobUrl = ready.GetProperty("downloadUrl").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await _cluster.Http.DeleteAsync($"/api/videos/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _cluster.Http.GetAsync($"/api/videos/{id}")).StatusCode);
        using var gone = new HttpClient();
        for (var deadline = DateTime.UtcNow.AddSeconds(10); (await gone.GetAsync(blobUrl)).StatusCode != HttpStatusCode.NotFound; await Task.Delay(100))
        {
            Assert.True(DateTime.UtcNow < deadline, "The video's file was not deleted.");
        }
    }

    [Fact]
    public async Task Webhooks_with_a_bad_or_stale_signature_or_an_unknown_video_are_refused_and_a_workflow_error_fails_the_video()
    {
        using var created = await _cluster.Http.PostAsJsonAsync("/api/videos/generate", new
        {
            title = "Spring update",
            hook = "Did you know spring is the best time to sell?",
            body = "Inventory is low and buyers are back.",
            conclusion = "Call us today.",
            avatarBody = "anna",
            companyName = "Reyes Realty",
        });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = (await PipelineCluster.ReadJsonAsync(created)).GetProperty("id").GetString()!;
        var (dispatch, _) = await _servers.Generator.DispatchOfAsync(id);
        Assert.Equal("script", dispatch.GetProperty("kind").GetString());
        Assert.Equal("anna", dispatch.GetProperty("request").GetProperty("avatarConclusion").GetString());
        Assert.Equal("female", dispatch.GetProperty("voice").GetProperty("gender").GetString());
        await WaitForAsync(id, "processing");

        var body = new { videoId = id, eventId = "err-1", message = "Avatar rendering failed: out of credits" };
        Assert.Equal(HttpStatusCode.Unauthorized, (await _servers.Generator.CallbackAsync(Webhook("workflow-error"), body, secret: "not-the-secret-000000")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _servers.Generator.CallbackAsync(Webhook("workflow-error"), body, DateTimeOffset.UtcNow.AddMinutes(-6))).StatusCode);
        using (var unsigned = new HttpClient())
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await unsigned.PostAsJsonAsync(Webhook("workflow-error"), body)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await _servers.Generator.CallbackAsync(Webhook("workflow-error"), body with { videoId = Guid.NewGuid().ToString() })).StatusCode);
        Assert.Equal("processing", (await GetAsync(id)).GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.OK, (await _servers.Generator.CallbackAsync(Webhook("workflow-error"), body)).StatusCode);
        var failed = await WaitForAsync(id, "failed");
        Assert.Contains("out of credits", failed.GetProperty("error").GetString(), StringComparison.Ordinal);

        // A completion after the failure is recorded, not applied.
        using var late = await _servers.Generator.CallbackAsync(Webhook("video-complete"), new { videoId = id, eventId = "evt-late", videoUrl = _servers.Generator.AddFile("x.mp4", [1, 2, 3]) });
        Assert.Equal("late", (await PipelineCluster.ReadJsonAsync(late)).GetProperty("outcome").GetString());
        var after = await GetAsync(id);
        Assert.Equal("failed", after.GetProperty("status").GetString());
        Assert.Equal(1, after.GetProperty("lateCallbacks").GetInt32());
    }

    [Fact]
    public async Task Results_that_are_not_videos_or_at_a_private_address_fail_and_a_video_without_a_callback_times_out()
    {
        var notVideo = await CreateProcessingAsync();
        await _servers.Generator.CallbackAsync(Webhook("video-complete"), new { videoId = notVideo, eventId = "e1", videoUrl = _servers.Generator.AddFile("page.bin", "not a video at all"u8.ToArray(), "application/octet-stream") });
        Assert.Contains("not a readable video", (await WaitForAsync(notVideo, "failed")).GetProperty("error").GetString(), StringComparison.Ordinal);

        // Another port on the loopback: not the generator's endpoint, so the guard refuses it.
        var privateAddress = await CreateProcessingAsync();
        await _servers.Generator.CallbackAsync(Webhook("video-complete"), new { videoId = privateAddress, eventId = "e2", videoUrl = $"http://127.0.0.1:{PipelineCluster.FreePort()}/v.mp4" });
        Assert.Contains("private", (await WaitForAsync(privateAddress, "failed")).GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);

        // No callback at all: failed once Avatar:Timeout (8 s here) has passed; a callback after that is recorded only.
        var silent = await CreateProcessingAsync();
        var timedOut = await WaitForAsync(silent, "failed", seconds: 60);
        Assert.Contains("No callback", timedOut.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var late = await _servers.Generator.CallbackAsync(Webhook("video-complete"), new { videoId = silent, eventId = "e3", videoUrl = _servers.Generator.AddFile("late.mp4", [1]) });
        Assert.Equal("late", (await PipelineCluster.ReadJsonAsync(late)).GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task A_failing_dispatch_is_retried_a_refused_one_fails_at_once_and_bad_requests_name_every_field()
    {
        _servers.Generator.FailNext(503, "busy");
        var retried = await CreateProcessingAsync();
        Assert.Equal(2, _servers.Generator.Dispatches.Count(d => d.Body.GetProperty("videoId").GetString() == retried));

        _servers.Generator.FailNext(422, "{\"message\":\"Unknown avatar style\"}");
        using var created = await _cluster.Http.PostAsJsonAsync("/api/videos", Form());
        var refused = await WaitForAsync((await PipelineCluster.ReadJsonAsync(created)).GetProperty("id").GetString()!, "failed");
        Assert.Contains("422", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("Unknown avatar style", refused.GetProperty("error").GetString(), StringComparison.Ordinal);

        using var invalid = await _cluster.Http.PostAsJsonAsync("/api/videos", new { avatar = "nobody", voice = "nothing", email = "not-an-email", preferredTone = "angry", videoTopic = "unknown" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await PipelineCluster.ReadJsonAsync(invalid)).GetProperty("errors");
        Assert.Equal(["avatar", "email", "name", "preferredTone", "prompt", "videoTopic", "voice"], errors.EnumerateObject().Select(p => p.Name).Order());

        // Cancelled while the generator works: its callback afterwards is recorded, not applied.
        var cancelled = await CreateProcessingAsync();
        var afterCancel = await PipelineCluster.ReadJsonAsync(await _cluster.Http.PostAsync($"/api/videos/{cancelled}/cancel", null));
        Assert.Equal("cancelled", afterCancel.GetProperty("status").GetString());
        using var tooLate = await _servers.Generator.CallbackAsync(Webhook("video-complete"), new { videoId = cancelled, eventId = "c1", videoUrl = _servers.Generator.AddFile("c.mp4", [1]) });
        Assert.Equal("late", (await PipelineCluster.ReadJsonAsync(tooLate)).GetProperty("outcome").GetString());
        Assert.Equal("cancelled", (await GetAsync(cancelled)).GetProperty("status").GetString());

        // The catalog: seeded, readable by users, changed by operators only.
        var avatars = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/videos/avatars"));
        Assert.Contains(avatars.GetProperty("items").EnumerateArray(), a => a.GetProperty("id").GetString() == "anna" && a.GetProperty("gender").GetString() == "female");
        Assert.Equal(5, (await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/videos/topics"))).GetProperty("items").GetArrayLength());
        using var stranger = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        stranger.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", PipelineCluster.Jwt("not-an-operator"));
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.PutAsJsonAsync("/api/videos/avatars/zoe", new { name = "Zoe", gender = "female" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _cluster.Http.PutAsJsonAsync("/api/videos/avatars/zoe", new { name = "Zoe", gender = "robot" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _cluster.Http.PutAsJsonAsync("/api/videos/avatars/zoe", new { name = "Zoe", gender = "female" })).StatusCode);
        Assert.Contains((await PipelineCluster.ReadJsonAsync(await stranger.GetAsync("/api/videos/avatars"))).GetProperty("items").EnumerateArray(),
            a => a.GetProperty("id").GetString() == "zoe");
        Assert.Equal(HttpStatusCode.OK, (await _cluster.Http.PutAsJsonAsync("/api/videos/avatars/zoe", new { name = "Zoe", gender = "female", active = false })).StatusCode);
        Assert.DoesNotContain((await PipelineCluster.ReadJsonAsync(await stranger.GetAsync("/api/videos/avatars"))).GetProperty("items").EnumerateArray(),
            a => a.GetProperty("id").GetString() == "zoe");
        Assert.Equal(HttpStatusCode.BadRequest, (await _cluster.Http.PostAsJsonAsync("/api/videos", Form(avatar: "zoe"))).StatusCode);
    }

    [Fact]
    public async Task A_processed_project_becomes_a_video_script_and_finished_work_shows_in_notifications_and_stats()
    {
        var path = await TestMedia.SpokenVideoAsync(_media, "solar.mp4");
        var (_, upload) = await _cluster.UploadAsync(path);
        var project = await _cluster.CreateProjectAsync(new { uploadId = upload.GetProperty("uploadId").GetString() });
        var projectId = project.GetProperty("id").GetString()!;
        await _cluster.WaitForStatusAsync(projectId, "completed", TimeSpan.FromMinutes(3));

        // The script from the project's content, then a video from the script.
        var script = await PipelineCluster.ReadJsonAsync(await _cluster.Http.PostAsync($"/api/projects/{projectId}/video-script", null));
        var analysis = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/projects/{projectId}/analysis"));
        Assert.Equal(analysis.GetProperty("summary").GetString(), script.GetProperty("body").GetString());
        Assert.False(string.IsNullOrWhiteSpace(script.GetProperty("hook").GetString()));
        Assert.Contains("Follow us", script.GetProperty("conclusion").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _cluster.Http.PostAsync($"/api/projects/{Guid.NewGuid()}/video-script", null)).StatusCode);
        using var fromScript = await _cluster.Http.PostAsJsonAsync("/api/videos/generate", new
        {
            title = script.GetProperty("title").GetString(),
            hook = script.GetProperty("hook").GetString(),
            body = script.GetProperty("body").GetString(),
            conclusion = script.GetProperty("conclusion").GetString(),
            avatarBody = "sofia",
        });
        Assert.Equal(HttpStatusCode.Accepted, fromScript.StatusCode);
        var readyId = (await PipelineCluster.ReadJsonAsync(fromScript)).GetProperty("id").GetString()!;
        await WaitForAsync(readyId, "processing");
        var result = await File.ReadAllBytesAsync(path);
        await _servers.Generator.CallbackAsync(Webhook("video-complete"), new { videoId = readyId, eventId = "r1", videoUrl = _servers.Generator.AddFile("solar-avatar.mp4", result) });
        await WaitForAsync(readyId, "ready");
        var failedId = await CreateProcessingAsync();
        await _servers.Generator.CallbackAsync(Webhook("workflow-error"), new { videoId = failedId, eventId = "f1", message = "render farm down" });
        await WaitForAsync(failedId, "failed");

        // Notifications: newest first, unread until marked.
        var notes = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/notifications"));
        Assert.Equal(3, notes.GetProperty("unreadCount").GetInt64());
        var items = notes.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["video_failed", "video_ready", "completed"], items.Select(n => n.GetProperty("kind").GetString()));
        Assert.Equal([failedId, readyId, projectId], items.Select(n => n.GetProperty("subjectId").GetString()));
        Assert.Contains("render farm down", items[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await _cluster.Http.PostAsync($"/api/notifications/{items[0].GetProperty("id").GetInt64()}/read", null)).StatusCode);
        var unread = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/notifications?unread=true&limit=1"));
        Assert.Equal(2, unread.GetProperty("unreadCount").GetInt64());
        Assert.Equal(readyId, Assert.Single(unread.GetProperty("items").EnumerateArray()).GetProperty("subjectId").GetString());
        Assert.NotNull(unread.GetProperty("nextCursor").GetString());
        using var stranger = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        stranger.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", PipelineCluster.Jwt("someone-else"));
        Assert.Equal(0, (await PipelineCluster.ReadJsonAsync(await stranger.GetAsync("/api/notifications"))).GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/notifications/{items[1].GetProperty("id").GetInt64()}/read", null)).StatusCode);
        Assert.Equal(2, (await PipelineCluster.ReadJsonAsync(await _cluster.Http.PostAsync("/api/notifications/read", null))).GetProperty("marked").GetInt32());

        // Stats: by status, success rates, step times, storage.
        var stats = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/stats"));
        Assert.Equal(1, stats.GetProperty("projects").GetProperty("byStatus").GetProperty("completed").GetInt64());
        Assert.Equal(1.0, stats.GetProperty("projects").GetProperty("successRate").GetDouble());
        Assert.Equal(0.5, stats.GetProperty("videos").GetProperty("successRate").GetDouble());
        Assert.Equal(1, stats.GetProperty("videos").GetProperty("processing").GetProperty("count").GetInt64());
        var transcribing = stats.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("step").GetString() == "transcribing");
        Assert.True(transcribing.GetProperty("medianSeconds").GetDouble() > 0);
        Assert.True(transcribing.GetProperty("p95Seconds").GetDouble() >= transcribing.GetProperty("medianSeconds").GetDouble());
        Assert.Equal(new FileInfo(path).Length, stats.GetProperty("storage").GetProperty("uploadsBytes").GetInt64());
        Assert.Equal(result.Length, stats.GetProperty("storage").GetProperty("avatarVideosBytes").GetInt64());
        Assert.Equal(0, (await PipelineCluster.ReadJsonAsync(await stranger.GetAsync("/api/stats"))).GetProperty("storage").GetProperty("totalBytes").GetInt64());
    }

    private async Task<string> CreateProcessingAsync()
    {
        using var created = await _cluster.Http.PostAsJsonAsync("/api/videos", Form());
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = (await PipelineCluster.ReadJsonAsync(created)).GetProperty("id").GetString()!;
        await WaitForAsync(id, "processing");
        return id;
    }

    private async Task<JsonElement> GetAsync(string id) => await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/videos/{id}"));

    private async Task<JsonElement> WaitForAsync(string id, string status, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var video = await GetAsync(id);
            if (video.ValueKind == JsonValueKind.Object && video.TryGetProperty("status", out var s) && s.GetString() == status)
            {
                return video;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Video {id} did not become {status}: {video}");
            await Task.Delay(100);
        }
    }
}
