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
        // Short leases: the dead silo's step is taken over within seconds.
        _cluster = await PipelineCluster.StartAsync(silos: 1, configure: settings =>
        {
            settings["Runtime:WorkLease"] = "00:00:03";
            settings["Runtime:SiloDeadAfter"] = "00:00:04";
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
        await _cluster.WaitForAsync(id, p => p.GetProperty("step").GetString() == "transcribing", TimeSpan.FromMinutes(2));
        // The step is saved with its work item, which the silo claims a moment later: kill it once it runs the step.
        string? item = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); item != "running" && DateTime.UtcNow < deadline; await Task.Delay(20))
        {
            item = await _cluster.Database.ScalarAsync<string>("SELECT coalesce((SELECT status FROM runtime.work_items WHERE kind = 'project.transcribe'), '')");
        }

        Assert.Equal("running", item);

        // The only silo dies mid-step (SIGKILL); a second one takes over once the lease expires.
        var first = _cluster.Silos[0];
        first.Kill();
        _cluster.StartSilo();

        var project = await _cluster.WaitForStatusAsync(id, "completed", TimeSpan.FromMinutes(3));
        var transcribing = project.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "transcribing");
        Assert.Equal(1, transcribing.GetProperty("attempts").GetInt32());
        Assert.Equal("lease_expired", await _cluster.Database.ScalarAsync<string>(
            "SELECT a.outcome FROM runtime.work_attempts a JOIN runtime.work_items w ON w.id = a.item_id WHERE w.kind = 'project.transcribe' AND a.attempt = 1"));
        Assert.Equal(2, await _cluster.Database.ScalarAsync<int>("SELECT attempts FROM runtime.work_items WHERE kind = 'project.transcribe'"));
        var transcript = await _cluster.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{id}/transcript");
        Assert.NotEmpty(transcript.GetProperty("segments").EnumerateArray());
    }
}
