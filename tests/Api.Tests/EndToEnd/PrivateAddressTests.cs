using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>With the production setting (private networks refused), links to local addresses never become downloads.</summary>
public sealed class PrivateAddressTests : IAsyncLifetime
{
    private PipelineCluster _cluster = null!;
    private string _media = null!;
    private LocalMediaServer _allowed = null!;

    public async Task InitializeAsync()
    {
        _media = Directory.CreateTempSubdirectory("ma-media-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_media, "secret.txt"), "internal");
        _allowed = await LocalMediaServer.StartAsync(_media, new Dictionary<string, string>
        {
            // Another local port than the allowed server's (port 9 is never handed out to a test server).
            ["/redirect"] = "http://127.0.0.1:9/secret.txt",
        });
        var allowedPort = new Uri(_allowed.BaseUrl).Port;
        _cluster = await PipelineCluster.StartAsync(configure: s =>
        {
            s["Ingestion:AllowPrivateNetworks"] = "false";
            // One local server stands in for a public site; every other local address stays refused.
            s["Ingestion:AllowedPrivateEndpoints:0"] = $"127.0.0.1:{allowedPort}";
        });
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _allowed.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/video.mp4")]
    [InlineData("http://localhost:9/video.mp4")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.1.2.3/video.mp4")]
    [InlineData("http://[::1]:9/video.mp4")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1/")]
    public async Task A_link_to_a_private_address_is_refused_and_nothing_is_created(string url)
    {
        var response = await _cluster.Http.PostAsJsonAsync("/api/projects", new { url });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not allowed", problem.GetProperty("detail").GetString());
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM projects"));
        // No project grain was written (no state, no watchdog reminder) and no event was published: no work started.
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM project_events"));
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM orleans_storage"));
        Assert.Equal(0L, await _cluster.Database.ScalarAsync<long>("SELECT count(*) FROM orleans_reminders"));
    }

    [Fact]
    public async Task A_redirect_to_a_private_address_fails_the_download_with_a_clear_message()
    {
        var created = await _cluster.CreateProjectAsync(new { url = $"{_allowed.BaseUrl}/redirect" });
        var project = await _cluster.WaitForStatusAsync(created.GetProperty("id").GetString()!, "failed", TimeSpan.FromMinutes(2));
        Assert.Contains("not allowed", project.GetProperty("error").GetString());
    }
}
