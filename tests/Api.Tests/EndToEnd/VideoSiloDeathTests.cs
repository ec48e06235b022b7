using System.Net;
using System.Net.Http.Json;
using MediaActors.Providers.Tests.Fakes;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>The silo holding an avatar video is killed between the dispatch and the generator's callback: the callback still completes it.</summary>
public sealed class VideoSiloDeathTests : IAsyncLifetime
{
    private FakeAvatarGenerator _generator = null!;
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _generator = await FakeAvatarGenerator.StartAsync("test-avatar-secret-0123456789");
        _cluster = await PipelineCluster.StartAsync(silos: 2, configure: s =>
        {
            VideoTests.Configure(s, _generator);
            s["Avatar:Timeout"] = "00:05:00";
            s["Projects:StepLease"] = "00:00:03";
            s["Projects:WatchdogPeriod"] = "00:00:01";
            s["Orleans:ProbeTimeout"] = "00:00:01";
            s["Orleans:NumMissedProbesLimit"] = "2";
        });
        _media = Directory.CreateTempSubdirectory("ma-video-death-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _generator.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task A_callback_after_the_videos_silo_died_completes_it_on_the_other()
    {
        using var created = await _cluster.Http.PostAsJsonAsync("/api/videos/generate", new
        {
            title = "Failover", hook = "Hook.", body = "Body.", conclusion = "End.", avatarBody = "kenji",
        });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = (await PipelineCluster.ReadJsonAsync(created)).GetProperty("id").GetString()!;
        await _generator.DispatchOfAsync(id);
        for (var deadline = DateTime.UtcNow.AddSeconds(30); (await GetAsync(id)).GetProperty("status").GetString() != "processing"; await Task.Delay(100))
        {
            Assert.True(DateTime.UtcNow < deadline, "The video was not dispatched.");
        }

        // The dispatch ran on the video grain's silo (a stateless worker there): kill that one.
        var holder = _cluster.Silos.Single(s => s.Output.Contains($"Video {id} dispatch started", StringComparison.Ordinal));
        holder.Kill();

        var result = await File.ReadAllBytesAsync(await TestMedia.SpokenVideoAsync(_media, "failover.mp4"));
        var url = _generator.AddFile("failover.mp4", result);
        HttpResponseMessage? answer = null;
        // Until the cluster has declared the silo dead, a callback may answer 503: the generator sends it again, as workflows do.
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(500))
        {
            answer = await _generator.CallbackAsync(new Uri(_cluster.Http.BaseAddress!, "/api/webhooks/video-complete"), new { videoId = id, eventId = "after-kill", videoUrl = url });
            if (answer.StatusCode == HttpStatusCode.OK || DateTime.UtcNow > deadline)
            {
                break;
            }
        }

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var survivor = _cluster.Silos.Single(s => s != holder);
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(200))
        {
            var video = await GetAsync(id);
            if (video.GetProperty("status").GetString() == "ready")
            {
                Assert.Equal(result.Length, video.GetProperty("sizeBytes").GetInt64());
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The video did not become ready: {video}\n--- {survivor.Name} ---\n{survivor.Output}");
        }

        Assert.Contains($"Video {id} download started", survivor.Output, StringComparison.Ordinal);
    }

    private async Task<System.Text.Json.JsonElement> GetAsync(string id) => await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync($"/api/videos/{id}"));
}
