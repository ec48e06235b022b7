using System.Net.Http.Json;
using System.Text.Json;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>A silo process killed in the middle of a step: the other silo finishes the project.</summary>
public sealed class SiloDeathTests : IAsyncLifetime
{
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        // Short lease and quick membership: the dead silo is declared dead and its step started again within seconds.
        _cluster = await PipelineCluster.StartAsync(silos: 2, configure: settings =>
        {
            settings["Projects:StepLease"] = "00:00:03";
            settings["Projects:WatchdogPeriod"] = "00:00:01";
            settings["Orleans:ProbeTimeout"] = "00:00:01";
            settings["Orleans:NumMissedProbesLimit"] = "2";
            // One decoder on parts of at most 6 s: the transcription takes long enough to be killed after its first parts.
            settings["Transcription:Local:MaxChunkSeconds"] = "6";
            settings["Transcription:Local:Parallelism"] = "1";
        });
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task A_silo_killed_while_transcribing_does_not_stop_the_project_nor_repeat_its_live_transcript()
    {
        var text = string.Join(" ", Enumerable.Repeat(TestMedia.Speech, 5));
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media, "long.mp4", text));
        await using var client = await LiveTranscriptClient.ConnectAsync(_cluster);
        var created = await _cluster.CreateProjectAsync(new { uploadId = upload.GetProperty("uploadId").GetString() });
        var id = created.GetProperty("id").GetString()!;
        await _cluster.WaitForAsync(id, p => p.GetProperty("steps").EnumerateArray()
            .Any(s => s.GetProperty("name").GetString() == "transcribing" && s.GetProperty("status").GetString() == "running"), TimeSpan.FromMinutes(2));

        // The step runs on the project grain's silo, which logs its start a moment after the attempt is recorded: kill that silo then.
        var started = $"Step Transcribing of project {id} started";
        HostProcess? running = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); running is null && DateTime.UtcNow < deadline; await Task.Delay(20))
        {
            running = _cluster.Silos.FirstOrDefault(s => s.Output.Contains(started, StringComparison.Ordinal));
        }

        Assert.True(running is not null, $"No silo started transcribing:\n{string.Join("\n", _cluster.Silos.Select(s => $"--- {s.Name} ---\n{s.Output}"))}");
        var survivor = _cluster.Silos.Single(s => s != running);

        // SIGKILL mid-step, once the first parts of the live transcript are out: the other silo takes the project over
        // once the step's lease has passed without heartbeats, and goes on after the parts already published.
        Assert.True(await client.WaitAsync(c => c.Of(id, "transcript_partial").Count >= 2, TimeSpan.FromMinutes(1)), running.Output);
        running.Kill();
        var beforeKill = client.Of(id, "transcript_partial").Count;

        var project = await _cluster.WaitForStatusAsync(id, "completed", TimeSpan.FromMinutes(3));
        var transcribing = project.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "transcribing");
        Assert.Equal("completed", transcribing.GetProperty("status").GetString());
        Assert.True(transcribing.GetProperty("attempts").GetInt32() == 2, $"transcribing: {transcribing}\n--- {survivor.Name} ---\n{survivor.Output}");
        // The lost attempt counted as a retryable failure of that step.
        Assert.Equal(1L, await _cluster.Database.ScalarAsync<long>(
            "SELECT count(*) FROM project_events WHERE project_id = $1 AND kind = 'retry_scheduled' AND payload->>'step' = 'transcribing'", Guid.Parse(id)));
        var transcript = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/transcript");
        Assert.NotEmpty(transcript.GetProperty("segments").EnumerateArray());

        // The client got every part once, in order, with no reset: the second attempt reused the parts published before the
        // kill (and did not transcribe that audio again), and the parts joined are the final transcript.
        Assert.True(await client.WaitAsync(c => c.Of(id, "transcript_ready").Count == 1, TimeSpan.FromSeconds(10)));
        var count = client.Of(id, "transcript_partial")[0].GetProperty("data").GetProperty("parts").GetInt32();
        Assert.Equal(Enumerable.Range(0, count), client.Parts(id));
        Assert.Empty(client.Of(id, "transcript_reset"));
        Assert.Equal(transcript.GetProperty("segments").EnumerateArray().Select(LiveTranscriptClient.Segment).ToList(), client.Segments(id));
        var reused = System.Text.RegularExpressions.Regex.Match(survivor.Output, @"in (\d+) chunks \((\d+) reused from an earlier attempt\)");
        Assert.True(reused.Success, survivor.Output);
        Assert.Equal(count, int.Parse(reused.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(int.Parse(reused.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), 2, count - 1);
        Assert.True(beforeKill < count, $"all {count} parts were out before the kill");
    }
}
