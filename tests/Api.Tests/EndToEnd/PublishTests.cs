using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediaActors.Providers.Tests.Fakes;
using Microsoft.AspNetCore.SignalR.Client;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>
/// Flow 4 through the API hosts and silo processes against the local Google server: connect, queue an upload for
/// YouTube, follow it live over SSE, the duplicate check, validation, the quota, history and isolation between users.
/// </summary>
public sealed class PublishTests : IAsyncLifetime
{
    private FakeGoogleServer _google = null!;
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _google = await FakeGoogleServer.StartAsync();
        _cluster = await PipelineCluster.StartAsync(configure: s => Configure(s, _google));
        _media = Directory.CreateTempSubdirectory("ma-publish-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _google.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    /// <summary>Google's endpoints on the local server, upload chunks of 256 KiB, quick retries.</summary>
    internal static void Configure(Dictionary<string, string?> settings, FakeGoogleServer google)
    {
        foreach (var (key, value) in google.ConfigurationValues)
        {
            settings[key] = value;
        }

        settings["Google:RedirectUri"] = "http://mediaactors.test/api/google/callback";
        settings["Google:UploadChunkBytes"] = "262144";
        settings["Publish:RetryBackoff"] = "00:00:00.300";
        settings["Publish:ReadBufferBytes"] = "262144";
    }

    /// <summary>Connects the API key's user to the local Google server the way a browser does.</summary>
    internal static async Task ConnectAsync(HttpClient http)
    {
        var connect = await PipelineCluster.ReadJsonAsync(await http.GetAsync("/api/google/connect"));
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var consent = await browser.GetAsync(connect.GetProperty("authorizationUrl").GetString());
        using var callback = await browser.GetAsync(new Uri(http.BaseAddress!, "/api/google/callback" + consent.Headers.Location!.Query));
        Assert.Equal(HttpStatusCode.OK, callback.StatusCode);
    }

    [Fact]
    public async Task An_upload_is_published_live_over_sse_and_queued_again_it_is_not_uploaded_twice()
    {
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media, "launch-talk.mp4"));
        var uploadId = upload.GetProperty("uploadId").GetString();

        // Not connected yet: a clear conflict, nothing queued.
        using var notConnected = await _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { uploadId } });
        Assert.Equal(HttpStatusCode.Conflict, notConnected.StatusCode);
        Assert.Contains("/api/google/connect", await notConnected.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await ConnectAsync(_cluster.Http);

        // Every bad field is named at once.
        using var invalid = await _cluster.Http.PostAsJsonAsync("/api/publish",
            new { source = new { uploadId, driveFileId = "x" }, title = new string('t', 101), privacy = "friends", categoryId = "abc", tags = new[] { "<b>" } });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await PipelineCluster.ReadJsonAsync(invalid)).GetProperty("errors");
        Assert.Equal(["categoryId", "privacy", "source", "tags", "title"], errors.EnumerateObject().Select(p => p.Name).Order());

        // A SignalR client connected for all of the user's events gets the job's too.
        var hubEvents = new System.Collections.Concurrent.ConcurrentQueue<(string Stream, string Kind)>();
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(_cluster.Http.BaseAddress!, "/hubs/projects"), o => o.Headers["X-Api-Key"] = _cluster.ApiKey)
            .Build();
        hub.On<JsonElement>("projectEvent", e => hubEvents.Enqueue((e.GetProperty("projectId").GetString()!, e.GetProperty("kind").GetString()!)));
        await hub.StartAsync();

        // Chunks wait at the local YouTube until the job says it is uploading (so that state is seen, however small the file).
        _google.Hold("upload");
        using var created = await _cluster.Http.PostAsJsonAsync("/api/publish",
            new { source = new { uploadId }, description = "Our launch.", tags = new[] { "launch" }, privacy = "unlisted" });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var job = await PipelineCluster.ReadJsonAsync(created);
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal($"/api/publish/{id}", created.Headers.Location!.ToString());
        Assert.Equal("launch-talk", job.GetProperty("metadata").GetProperty("title").GetString());

        try
        {
            await WaitForJobAsync(id, "uploading");
        }
        finally
        {
            _google.Release("upload");
        }

        // Live over SSE from the first event: queued, uploading, completed, in order.
        var events = await _cluster.ReadEventsUntilAsync($"/api/publish/{id}/events/stream?after=0", "publish_completed");
        Assert.Equal("publish_queued", events[0].Kind);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.Contains(events, e => e.Kind == "publish_status_changed" && e.Data.GetProperty("status").GetString() == "uploading");

        var done = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/publish/{id}"));
        Assert.Equal("completed", done.GetProperty("status").GetString());
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !hubEvents.Contains((id, "publish_completed")); await Task.Delay(50))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The hub did not relay the job's completion: {string.Join(", ", hubEvents)}");
        }

        Assert.Equal(events.Select(e => e.Kind), hubEvents.Where(e => e.Stream == id).Select(e => e.Kind));
        var videoId = done.GetProperty("videoId").GetString()!;
        Assert.Equal($"https://www.youtube.com/watch?v={videoId}", done.GetProperty("videoUrl").GetString());
        var video = _google.Videos[videoId];
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_media, "launch-talk.mp4")), video.Content);
        Assert.Equal("unlisted", video.Metadata.GetProperty("status").GetProperty("privacyStatus").GetString());
        Assert.Equal("Our launch.", video.Metadata.GetProperty("snippet").GetProperty("description").GetString());

        // The same file again: found in the history and still on YouTube, so it completes with that video, uploading nothing.
        var accepted = _google.UploadBytesAccepted;
        using var again = await _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { uploadId } });
        var second = await PipelineCluster.ReadJsonAsync(again);
        var secondId = second.GetProperty("id").GetString()!;
        var secondDone = await WaitForJobAsync(secondId, "completed");
        Assert.True(secondDone.GetProperty("alreadyOnYouTube").GetBoolean());
        Assert.Equal(videoId, secondDone.GetProperty("videoId").GetString());
        Assert.Contains("not uploaded again", secondDone.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(accepted, _google.UploadBytesAccepted);

        // Listing, filtering, paging, history.
        var page = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/publish?limit=1"));
        Assert.Equal(secondId, page.GetProperty("items")[0].GetProperty("id").GetString());
        var next = page.GetProperty("nextCursor").GetString();
        var rest = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/publish?limit=1&cursor={Uri.EscapeDataString(next!)}"));
        Assert.Equal(id, rest.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.Equal(2, (await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/publish?status=completed"))).GetProperty("items").GetArrayLength());
        Assert.Equal(0, (await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/publish?status=failed"))).GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await _cluster.Http.GetAsync("/api/publish?status=done")).StatusCode);
        var history = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/publish/history"));
        Assert.Equal([secondId, id], history.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()));

        // The quota as MediaActors counts it: one upload (1,600 units) and one videos.list (1 unit) today.
        var quota = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/publish/quota"));
        Assert.Equal(1601, quota.GetProperty("usedUnits").GetInt32());
        Assert.Equal(10_000, quota.GetProperty("dailyLimit").GetInt32());
        Assert.False(quota.GetProperty("paused").GetBoolean());

        // Each completed job is a notification.
        var notes = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/notifications"));
        Assert.Equal([secondId, id], notes.GetProperty("items").EnumerateArray().Where(n => n.GetProperty("kind").GetString() == "publish_completed")
            .Select(n => n.GetProperty("subjectId").GetString()));
        Assert.Contains("not uploaded again", notes.GetProperty("items")[0].GetProperty("message").GetString(), StringComparison.Ordinal);

        // A completed job cannot be retried; another user sees none of this.
        Assert.Equal(HttpStatusCode.Conflict, (await _cluster.Http.PostAsync($"/api/publish/{id}/retry", null)).StatusCode);
        using var stranger = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        stranger.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", PipelineCluster.Jwt("someone-else"));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/publish/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/publish/{id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/publish/{id}/events")).StatusCode);
        Assert.Equal(0, (await PipelineCluster.ReadJsonAsync(await stranger.GetAsync("/api/publish"))).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_drive_file_is_published_and_a_file_that_is_not_there_or_not_a_video_is_refused()
    {
        await ConnectAsync(_cluster.Http);
        var content = await File.ReadAllBytesAsync(await TestMedia.SpokenVideoAsync(_media, "drive.mp4"));
        var file = _google.AddDriveFile("Quarterly review.mp4", content);

        // Two requests for the same file at the same moment: one job, and a 409 naming it.
        _google.Hold("download");
        var requests = await Task.WhenAll(
            _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { driveFileId = file.Id } }),
            _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { driveFileId = file.Id } }));
        var created = Assert.Single(requests, r => r.StatusCode == HttpStatusCode.Accepted);
        var refused = Assert.Single(requests, r => r.StatusCode == HttpStatusCode.Conflict);
        var job = await PipelineCluster.ReadJsonAsync(created);
        Assert.Equal(job.GetProperty("id").GetString(), (await PipelineCluster.ReadJsonAsync(refused)).GetProperty("jobId").GetString());
        _google.Release("download");
        Assert.Equal("Quarterly review", job.GetProperty("metadata").GetProperty("title").GetString());
        Assert.Equal(file.Md5, job.GetProperty("source").GetProperty("md5").GetString());
        var done = await WaitForJobAsync(job.GetProperty("id").GetString()!, "completed");
        Assert.Equal(content, _google.Videos[done.GetProperty("videoId").GetString()!].Content);

        Assert.Equal(HttpStatusCode.NotFound, (await _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { driveFileId = "nosuchfile" } })).StatusCode);
        var document = _google.AddDriveFile("notes.txt", "hello"u8.ToArray(), mimeType: "text/plain");
        using var notVideo = await _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { driveFileId = document.Id } });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notVideo.StatusCode);
        Assert.Contains("not a video", await notVideo.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watched_blob_prefix_queues_its_videos_and_bad_watches_are_refused_field_by_field()
    {
        await ConnectAsync(_cluster.Http);
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media, "weekly-update.mp4"));
        var prefix = upload.GetProperty("uploadId").GetString() + "/";

        using var invalid = await _cluster.Http.PostAsJsonAsync("/api/publish/folders",
            new { blobPrefix = "../other-user", schedule = "PT1M", defaults = new { privacy = "everyone" } });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await PipelineCluster.ReadJsonAsync(invalid)).GetProperty("errors");
        Assert.Equal(["blobPrefix", "privacy", "schedule"], errors.EnumerateObject().Select(p => p.Name).Order());
        using var both = await _cluster.Http.PostAsJsonAsync("/api/publish/folders", new { blobPrefix = "a/", driveFolderId = "b", schedule = "PT1H" });
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);

        using var created = await _cluster.Http.PostAsJsonAsync("/api/publish/folders",
            new { blobPrefix = prefix, schedule = "PT1H", defaults = new { tags = new[] { "weekly" }, privacy = "unlisted" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var watch = await PipelineCluster.ReadJsonAsync(created);
        var watchId = watch.GetProperty("id").GetString()!;
        Assert.Equal(prefix, watch.GetProperty("blobPrefix").GetString());
        Assert.Equal("PT1H", watch.GetProperty("schedule").GetString());

        // Scan now (the reminder also scans right after creation): the video is queued once and published.
        var scanned = await PipelineCluster.ReadJsonAsync(await _cluster.Http.PostAsync($"/api/publish/folders/{watchId}/scan", null));
        Assert.Equal(1, scanned.GetProperty("jobsQueued").GetInt32());
        var jobs = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/publish"));
        var job = Assert.Single(jobs.GetProperty("items").EnumerateArray());
        Assert.Equal(watchId, job.GetProperty("folderId").GetString());
        Assert.Equal("weekly-update", job.GetProperty("metadata").GetProperty("title").GetString());
        var done = await WaitForJobAsync(job.GetProperty("id").GetString()!, "completed");
        Assert.Equal("unlisted", _google.Videos[done.GetProperty("videoId").GetString()!].Metadata.GetProperty("status").GetProperty("privacyStatus").GetString());

        var list = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/publish/folders"));
        Assert.Equal(watchId, Assert.Single(list.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await _cluster.Http.DeleteAsync($"/api/publish/folders/{watchId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _cluster.Http.GetAsync($"/api/publish/folders/{watchId}")).StatusCode);
    }

    [Fact]
    public async Task A_processed_project_is_published_with_its_generated_title_summary_and_topics()
    {
        await ConnectAsync(_cluster.Http);
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media, "solar.mp4"));
        var project = await _cluster.CreateProjectAsync(new { uploadId = upload.GetProperty("uploadId").GetString() });
        var projectId = project.GetProperty("id").GetString()!;
        await _cluster.WaitForStatusAsync(projectId, "completed", TimeSpan.FromMinutes(3));
        var content = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/projects/{projectId}/content"));
        var analysis = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/projects/{projectId}/analysis"));

        using var created = await _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { projectId } });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var job = await PipelineCluster.ReadJsonAsync(created);
        var metadata = job.GetProperty("metadata");
        Assert.Equal(content.GetProperty("title").GetString(), metadata.GetProperty("title").GetString());
        Assert.Equal(analysis.GetProperty("summary").GetString(), metadata.GetProperty("description").GetString());
        Assert.Equal(analysis.GetProperty("topics").EnumerateArray().Select(t => t.GetString()), metadata.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("private", metadata.GetProperty("privacy").GetString());

        var done = await WaitForJobAsync(job.GetProperty("id").GetString()!, "completed");
        var video = _google.Videos[done.GetProperty("videoId").GetString()!];
        Assert.Equal(content.GetProperty("title").GetString(), video.Metadata.GetProperty("snippet").GetProperty("title").GetString());
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_media, "solar.mp4")), video.Content);
        Assert.Equal(HttpStatusCode.NotFound, (await _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { projectId = Guid.NewGuid() } })).StatusCode);
    }

    private async Task<JsonElement> WaitForJobAsync(string id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var job = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/publish/{id}"));
            if (job.GetProperty("status").GetString() == status)
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Job {id} did not become {status}: {job}");
            await Task.Delay(100);
        }
    }

    /// <summary>Reads a server-sent-event stream until an event of <paramref name="lastKind"/>; returns the events in order.</summary>
}
