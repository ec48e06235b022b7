using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>
/// What a SignalR client of the live transcript sees: the events of one project as they arrive, and the transcript it
/// rebuilds from them (transcript_partial parts appended, transcript_reset starting over).
/// </summary>
public sealed class LiveTranscriptClient : IAsyncDisposable
{
    private readonly HubConnection _hub;
    private readonly ConcurrentQueue<JsonElement> _events = new();

    private LiveTranscriptClient(HubConnection hub) => _hub = hub;

    /// <summary>Every event received, in arrival order (message: projectId, seq, kind, data).</summary>
    public IReadOnlyList<JsonElement> Events => [.. _events];

    public static async Task<LiveTranscriptClient> ConnectAsync(PipelineCluster cluster)
    {
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(cluster.Http.BaseAddress!, "/hubs/projects"), o => o.Headers["X-Api-Key"] = cluster.ApiKey)
            .Build();
        var client = new LiveTranscriptClient(hub);
        hub.On<JsonElement>("projectEvent", e => client._events.Enqueue(e.Clone()));
        await hub.StartAsync();
        return client;
    }

    public IReadOnlyList<JsonElement> Of(string projectId, params string[] kinds) =>
        Events.Where(e => e.GetProperty("projectId").GetString() == projectId && (kinds.Length == 0 || kinds.Contains(e.GetProperty("kind").GetString()))).ToList();

    /// <summary>The part indexes received since the last reset, in arrival order.</summary>
    public List<int> Parts(string projectId) => Rebuild(projectId).Select(p => p.GetProperty("part").GetInt32()).ToList();

    /// <summary>The segments (start, end, text) the client holds: the parts since the last reset, joined in arrival order.</summary>
    public List<(double Start, double End, string Text)> Segments(string projectId) =>
        Rebuild(projectId).SelectMany(p => p.GetProperty("segments").EnumerateArray()).Select(Segment).ToList();

    public static (double Start, double End, string Text) Segment(JsonElement s) =>
        (s.GetProperty("start").GetDouble(), s.GetProperty("end").GetDouble(), s.GetProperty("text").GetString()!);

    private List<JsonElement> Rebuild(string projectId)
    {
        var parts = new List<JsonElement>();
        foreach (var e in Of(projectId, "transcript_partial", "transcript_reset"))
        {
            if (e.GetProperty("kind").GetString() == "transcript_reset")
            {
                parts.Clear();
            }
            else
            {
                parts.Add(e.GetProperty("data"));
            }
        }

        return parts;
    }

    public async Task<bool> WaitAsync(Func<LiveTranscriptClient, bool> condition, TimeSpan timeout)
    {
        for (var deadline = DateTime.UtcNow + timeout; DateTime.UtcNow < deadline; await Task.Delay(20))
        {
            if (condition(this))
            {
                return true;
            }
        }

        return condition(this);
    }

    public ValueTask DisposeAsync() => _hub.DisposeAsync();
}

/// <summary>The transcript of a long recording streams live while it is transcribed, over SignalR, SSE and the transcript endpoint.</summary>
public sealed class LiveTranscriptTests : IAsyncLifetime
{
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        // Parts of at most 6 s, two decoders: a recording of a minute and a half makes many parts that finish out of order.
        _cluster = await PipelineCluster.StartAsync(configure: settings =>
        {
            settings["Transcription:Local:MaxChunkSeconds"] = "6";
            settings["Transcription:Local:Parallelism"] = "2";
        });
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task A_long_recording_streams_its_transcript_in_time_order_and_the_parts_join_into_the_final_transcript()
    {
        var text = string.Join(" ", Enumerable.Repeat(TestMedia.Speech, 7));
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media, "talk.mp4", text));
        await using var client = await LiveTranscriptClient.ConnectAsync(_cluster);
        var created = await _cluster.CreateProjectAsync(new { uploadId = upload.GetProperty("uploadId").GetString(), title = "Long talk" });
        var id = created.GetProperty("id").GetString()!;

        // While the step runs, the transcript endpoint answers with the parts so far, marked partial.
        var partialAnswers = new List<JsonElement>();
        for (var deadline = DateTime.UtcNow.AddMinutes(3); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            var project = await _cluster.GetProjectAsync(id);
            if (project.GetProperty("status").GetString() is "completed" or "failed")
            {
                break;
            }

            using var response = await _cluster.Http.GetAsync($"/api/projects/{id}/transcript");
            if (response.IsSuccessStatusCode)
            {
                var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (!answer.GetProperty("partial").GetBoolean())
                {
                    break;
                }

                partialAnswers.Add(answer);
            }
        }

        await _cluster.WaitForStatusAsync(id, "completed", TimeSpan.FromMinutes(3));
        var final = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/transcript");
        Assert.False(final.GetProperty("partial").GetBoolean());
        var finalSegments = final.GetProperty("segments").EnumerateArray().Select(LiveTranscriptClient.Segment).ToList();

        // Over SignalR: every part once, in time order, all before transcript_ready; joined they are the final transcript.
        Assert.True(await client.WaitAsync(c => c.Of(id, "transcript_ready").Count == 1, TimeSpan.FromSeconds(10)));
        var partials = client.Of(id, "transcript_partial");
        var count = partials[0].GetProperty("data").GetProperty("parts").GetInt32();
        Assert.True(count >= 10, $"{count} parts");
        Assert.Equal(Enumerable.Range(0, count), client.Parts(id));
        Assert.Empty(client.Of(id, "transcript_reset"));
        var starts = partials.Select(p => p.GetProperty("data").GetProperty("start").GetDouble()).ToList();
        Assert.Equal(starts.Order(), starts);
        var seqs = client.Of(id).Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(seqs.Order(), seqs);
        var ready = client.Of(id, "transcript_ready").Single();
        Assert.All(partials, p => Assert.True(p.GetProperty("seq").GetInt64() < ready.GetProperty("seq").GetInt64()));
        Assert.Equal(count, ready.GetProperty("data").GetProperty("parts").GetInt32());
        Assert.Equal(finalSegments, client.Segments(id));
        Assert.Equal(final.GetProperty("text").GetString(),
            string.Join(' ', partials.Select(p => p.GetProperty("data").GetProperty("text").GetString()).Where(t => t!.Length > 0)));

        // The endpoint's partial answers were each a prefix of the final transcript, growing.
        Assert.Contains(partialAnswers, a => a.GetProperty("parts").GetInt32() > 0 && a.GetProperty("parts").GetInt32() < count);
        Assert.All(partialAnswers, a =>
        {
            var segments = a.GetProperty("segments").EnumerateArray().Select(LiveTranscriptClient.Segment).ToList();
            Assert.Equal(finalSegments.Take(segments.Count), segments);
            // Before the first part, the number of parts is not known yet.
            Assert.Equal(a.GetProperty("parts").GetInt32() > 0 ? count : (int?)null, a.TryGetProperty("partsTotal", out var total) ? total.GetInt32() : null);
        });
        var sizes = partialAnswers.Select(a => a.GetProperty("parts").GetInt32()).ToList();
        Assert.Equal(sizes.Order(), sizes);

        // Server-sent events carry the same parts (a client without SignalR, catching up from the start).
        var sse = await _cluster.ReadEventsUntilAsync($"/api/projects/{id}/events/stream?after=0", "transcript_ready");
        Assert.Equal(Enumerable.Range(0, count), sse.Where(e => e.Kind == "transcript_partial").Select(e => e.Data.GetProperty("part").GetInt32()));
        Assert.Equal(finalSegments, sse.Where(e => e.Kind == "transcript_partial")
            .SelectMany(e => e.Data.GetProperty("segments").EnumerateArray()).Select(LiveTranscriptClient.Segment).ToList());

        // Once the transcript is written its parts are gone from the parts table (the event log keeps them).
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM transcript_parts WHERE project_id = $1", Guid.Parse(id)));
    }
}
