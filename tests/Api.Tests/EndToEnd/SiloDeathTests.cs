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
        });
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task A_silo_killed_while_transcribing_does_not_stop_the_project()
    {
        var text = string.Join(" ", Enumerable.Repeat(TestMedia.Speech, 3));
        var (_, upload) = await _cluster.UploadAsync(await TestMedia.SpokenVideoAsync(_media, "long.mp4", text));
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

        // SIGKILL mid-step: the other silo takes the project over once the step's lease has passed without heartbeats.
        running.Kill();

        var project = await _cluster.WaitForStatusAsync(id, "completed", TimeSpan.FromMinutes(3));
        var transcribing = project.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "transcribing");
        Assert.Equal("completed", transcribing.GetProperty("status").GetString());
        Assert.True(transcribing.GetProperty("attempts").GetInt32() == 2, $"transcribing: {transcribing}\n--- {survivor.Name} ---\n{survivor.Output}");
        // The lost attempt counted as a retryable failure of that step.
        Assert.Equal(1L, await _cluster.Database.ScalarAsync<long>(
            "SELECT count(*) FROM project_events WHERE project_id = $1 AND kind = 'retry_scheduled' AND payload->>'step' = 'transcribing'", Guid.Parse(id)));
        var transcript = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/transcript");
        Assert.NotEmpty(transcript.GetProperty("segments").EnumerateArray());
    }
}
