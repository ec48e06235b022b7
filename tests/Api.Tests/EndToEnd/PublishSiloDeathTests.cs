using System.Net;
using System.Net.Http.Json;
using MediaActors.Providers.Tests.Fakes;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>A silo process killed in the middle of a YouTube upload: the job resumes on the other silo from the offset YouTube confirmed.</summary>
public sealed class PublishSiloDeathTests : IAsyncLifetime
{
    private const int Chunk = 256 * 1024;
    private FakeGoogleServer _google = null!;
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _google = await FakeGoogleServer.StartAsync();
        _cluster = await PipelineCluster.StartAsync(silos: 2, configure: s =>
        {
            PublishTests.Configure(s, _google);
            s["Projects:StepLease"] = "00:00:03";
            s["Projects:WatchdogPeriod"] = "00:00:01";
            s["Orleans:ProbeTimeout"] = "00:00:01";
            s["Orleans:NumMissedProbesLimit"] = "2";
        });
        _media = Directory.CreateTempSubdirectory("ma-publish-death-").FullName;
    }

    public async Task DisposeAsync()
    {
        _google.Release("upload");
        await _cluster.DisposeAsync();
        await _google.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task A_silo_killed_mid_upload_does_not_restart_the_upload_from_zero()
    {
        await PublishTests.ConnectAsync(_cluster.Http);
        var path = await TestMedia.NoisyVideoAsync(_media, "noisy.mp4", seconds: 3);
        var content = await File.ReadAllBytesAsync(path);
        Assert.True(content.Length > 6 * Chunk, $"The test video is only {content.Length} bytes.");
        var (_, upload) = await _cluster.UploadAsync(path);

        // Four chunks reach YouTube; the fifth waits at the server's gate while the silo sending it is killed.
        _google.Hold("upload", fromByte: 4 * Chunk);
        using var created = await _cluster.Http.PostAsJsonAsync("/api/publish", new { source = new { uploadId = upload.GetProperty("uploadId").GetString() } });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = (await PipelineCluster.ReadJsonAsync(created)).GetProperty("id").GetString()!;
        for (var deadline = DateTime.UtcNow.AddSeconds(60); _google.Held == 0; await Task.Delay(50))
        {
            Assert.True(DateTime.UtcNow < deadline, "No chunk reached the gate.");
        }

        var running = _cluster.Silos.Single(s => s.Output.Contains($"Publish job {id} started", StringComparison.Ordinal));
        running.Kill();
        _google.Release("upload");

        var done = await WaitForAsync(id, "completed", TimeSpan.FromMinutes(2));
        Assert.Equal(content, _google.Videos[done.GetProperty("videoId").GetString()!].Content);
        // One upload session, every byte accepted exactly once: the survivor asked the session where it stood and went on.
        Assert.Equal(content.Length, _google.UploadBytesAccepted);
        Assert.Equal(0, _google.MisplacedChunks);
        Assert.Single(_google.Requests, r => r.StartsWith("POST /upload/youtube/v3/videos", StringComparison.Ordinal));
        Assert.Equal(2, done.GetProperty("attempts").GetInt32());
        var survivor = _cluster.Silos.Single(s => s != running);
        Assert.Contains($"Publish job {id}: resuming its YouTube upload at byte {4 * Chunk}", survivor.Output, StringComparison.Ordinal);
    }

    private async Task<System.Text.Json.JsonElement> WaitForAsync(string id, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/publish/{id}"));
            if (job.GetProperty("status").GetString() == status)
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Job {id} did not become {status}: {job}\n" + string.Join("\n", _cluster.Silos.Select(s => $"--- {s.Name} ---\n{s.Output}")));
            await Task.Delay(200);
        }
    }
}
