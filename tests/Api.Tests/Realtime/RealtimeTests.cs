using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MediaActors.Api.Tests.EndToEnd;

namespace MediaActors.Api.Tests.Realtime;

/// <summary>Live events with 2 silos and 2 API hosts: the project is created through one host, watched through the other.</summary>
public sealed class RealtimeTests : IAsyncLifetime
{
    private PipelineCluster _cluster = null!;
    private Uri _otherApi = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _cluster = await PipelineCluster.StartAsync(silos: 2);
        _otherApi = await _cluster.StartApiAsync();
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task A_client_on_another_api_host_gets_every_event_once_in_order_and_can_catch_up()
    {
        await using var watcher = await NodeSignalRClient.ConnectAsync(_otherApi, _cluster.ApiKey, "completed");
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media));
        var created = await _cluster.CreateProjectAsync(new { uploadId = upload.GetProperty("uploadId").GetString() });
        var id = created.GetProperty("id").GetString()!;

        var events = await watcher.EventsUntilAsync("completed", TimeSpan.FromMinutes(3));
        Assert.All(events, e => Assert.Equal(id, e.GetProperty("projectId").GetString()));
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal("created", events[0].GetProperty("kind").GetString());
        var kinds = events.Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Contains("step_completed", kinds);
        Assert.Contains("content_ready", kinds);
        Assert.Equal(100, events[^1].GetProperty("data").GetProperty("progress").GetInt32());
        Assert.All(events, e => Assert.False(e.GetProperty("data").TryGetProperty("userId", out _)));

        // A client that saw up to 3 reads the rest over HTTP, from the other host too.
        using var other = new HttpClient { BaseAddress = _otherApi };
        other.DefaultRequestHeaders.Add("X-Api-Key", _cluster.ApiKey);
        var missed = await other.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/events?after=3");
        Assert.Equal(events.Skip(3).Select(e => e.GetProperty("seq").GetInt64()), missed.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()));
        Assert.False(missed.GetProperty("gap").GetBoolean());
        var caughtUp = await other.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/events?after={events.Count}");
        Assert.Empty(caughtUp.GetProperty("items").EnumerateArray());
        Assert.False(caughtUp.GetProperty("gap").GetBoolean());

        // The server-sent-event stream replays from Last-Event-ID.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/projects/{id}/events/stream");
        request.Headers.Add("Last-Event-ID", (events.Count - 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await other.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var ids = new List<long>();
        while (ids.Count < 2 && await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                ids.Add(long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        Assert.Equal([events.Count - 1, events.Count], ids);

        // Retention deleted the oldest events: a client behind them is told, one that is not behind them is not.
        await _cluster.Database.ExecuteAsync($"DELETE FROM project_events WHERE project_id = '{id}' AND seq <= 5");
        var behind = await other.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/events?after=3");
        Assert.True(behind.GetProperty("gap").GetBoolean());
        Assert.Equal(6, behind.GetProperty("items")[0].GetProperty("seq").GetInt64());
        Assert.False((await other.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/events?after=5")).GetProperty("gap").GetBoolean());
        await _cluster.Database.ExecuteAsync($"DELETE FROM project_events WHERE project_id = '{id}'");
        var allGone = await other.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/events?after=0");
        Assert.Empty(allGone.GetProperty("items").EnumerateArray());
        Assert.True(allGone.GetProperty("gap").GetBoolean());
    }

    [Fact]
    public async Task A_client_subscribed_to_one_project_gets_only_that_project()
    {
        // A waits for its upload, so the client subscribes while A is in the middle of its life: some events are past, the rest to come.
        var fileA = await TestMedia.SpokenVideoAsync(_media, "a.mp4", "First project.");
        var uploadA = await _cluster.CreateUploadAsync("a.mp4", new FileInfo(fileA).Length);
        var a = await _cluster.CreateProjectAsync(new { uploadId = uploadA.GetProperty("uploadId").GetString(), title = "a" });
        var idA = a.GetProperty("id").GetString()!;
        Assert.Equal("uploading", a.GetProperty("status").GetString());
        await using var watcher = await NodeSignalRClient.ConnectAsync(_otherApi, _cluster.ApiKey, "completed", idA);
        await PipelineCluster.PutBlocksAsync(uploadA.GetProperty("uploadUrl").GetString()!, fileA, 256 * 1024);
        using (var completed = await _cluster.Http.PostAsync($"/api/uploads/{uploadA.GetProperty("uploadId").GetString()}/complete", null))
        {
            Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        }

        var (_, second) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media, "b.mp4", "Second project."));
        await _cluster.CreateProjectAsync(new { uploadId = second.GetProperty("uploadId").GetString(), title = "b" });

        // What it missed comes from the log, the rest live: all of A and nothing of B, once each, in order.
        var events = await watcher.EventsUntilAsync("completed", TimeSpan.FromMinutes(3));
        Assert.All(events, e => Assert.Equal(idA, e.GetProperty("projectId").GetString()));
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal("created", events[0].GetProperty("kind").GetString());
        Assert.True(events[0].TryGetProperty("caughtUp", out _), "the creation happened before the subscription");
        var live = events.Where(e => !e.TryGetProperty("caughtUp", out _)).Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Contains("step_completed", live);
        Assert.Equal("completed", live[^1]);
    }
}
