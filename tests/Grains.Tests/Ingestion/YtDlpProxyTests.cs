using System.Net;
using MediaActors.Grains.Ingestion;

namespace MediaActors.Grains.Tests.Ingestion;

/// <summary>
/// yt-dlp's own connections (redirects it follows, HLS fragments, the names it would look up) all go through the
/// filtering proxy: A is the one allowed private endpoint, B stands for the private network behind it.
/// </summary>
public sealed class YtDlpProxyTests : IClassFixture<TwoServers>
{
    private readonly TestMediaServer _a;
    private readonly TestMediaServer _b;

    public YtDlpProxyTests(TwoServers servers)
    {
        _a = servers.A;
        _b = servers.B;
        _a.ClearRequests();
        _b.ClearRequests();
    }

    [Theory]
    [InlineData("http")]
    [InlineData("https")]
    public async Task A_redirect_that_yt_dlp_follows_to_a_private_address_is_refused(string scheme)
    {
        using var host = IngestionTestHost.AllowingOnly(_a);
        var target = host.NewTargetDirectory();
        var redirect = "/redirect?to=" + Uri.EscapeDataString($"{scheme}://127.0.0.1:{_b.Port}/clip.mp4");
        var page = _a.Url($"/embed.html?src={Uri.EscapeDataString(redirect)}");

        // A platform link: yt-dlp downloads the media itself and follows the redirect on its own.
        var error = await Assert.ThrowsAsync<StepException>(() => host.Handler<XHandler>().DownloadAsync(page, target, 1_000_000, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal(
            $"The download led to {scheme}://127.0.0.1:{_b.Port}. The link points to a private or local network address (127.0.0.1), which is not allowed.",
            error.Message);
        Assert.Contains(redirect, _a.Requests);
        Assert.Empty(_b.Requests);
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task Hls_fragments_on_a_private_address_are_refused_and_fail_the_download()
    {
        using var host = IngestionTestHost.AllowingOnly(_a);
        var target = host.NewTargetDirectory();
        var playlist = "/hls.m3u8?base=" + Uri.EscapeDataString($"http://127.0.0.1:{_b.Port}");
        var page = _a.Url($"/embed.html?src={Uri.EscapeDataString(playlist)}");

        var error = await Assert.ThrowsAsync<StepException>(() => host.Handler<TikTokHandler>().DownloadAsync(page, target, 1_000_000, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal(
            $"The download led to http://127.0.0.1:{_b.Port}. The link points to a private or local network address (127.0.0.1), which is not allowed.",
            error.Message);
        // The playlist itself came from the allowed server; not one fragment was fetched from the private one.
        Assert.Contains(playlist, _a.Requests);
        Assert.Empty(_b.Requests);
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task Hls_fragments_from_an_allowed_server_are_downloaded_through_the_proxy()
    {
        using var host = IngestionTestHost.AllowingOnly(_a);
        var target = host.NewTargetDirectory();
        var page = _a.Url($"/embed.html?src={Uri.EscapeDataString("/hls.m3u8")}");

        var media = await host.Handler<VimeoHandler>().DownloadAsync(page, target, 1_000_000, null, CancellationToken.None);

        Assert.True(File.Exists(media.FilePath));
        Assert.True(media.SizeBytes > 0);
        for (var index = 0; index < TestMediaServer.SegmentCount; index++)
        {
            Assert.Contains($"/segment/{index}", _a.Requests);
        }
    }

    [Fact]
    public async Task Yt_dlp_looks_up_no_name_itself_every_connection_is_resolved_by_the_guard()
    {
        var lookups = 0;
        // "media.test" exists only in the guard's resolver: yt-dlp could not have found it with a lookup of its own.
        using var host = IngestionTestHost.AllowingOnly(_a, (name, _) =>
        {
            Assert.Equal("media.test", name);
            Interlocked.Increment(ref lookups);
            return Task.FromResult(new[] { IPAddress.Loopback });
        });
        var target = host.NewTargetDirectory();

        var media = await host.Handler<YouTubeHandler>().DownloadAsync(new Uri($"http://media.test:{_a.Port}/page.html"), target, 1_000_000, null,
            CancellationToken.None);

        Assert.Equal(await TestClip.BytesAsync(), await File.ReadAllBytesAsync(media.FilePath));
        Assert.Equal(["/page.html", "/clip.mp4"], _a.Requests);
        // Our check of the page and of the format, then one per connection yt-dlp made (the page, the clip).
        Assert.Equal(4, lookups);
    }

    [Fact]
    public async Task A_name_that_rebinds_to_a_private_address_after_the_first_check_is_refused_at_connect()
    {
        var lookups = 0;
        using var host = IngestionTestHost.AllowingOnly(_a, (_, _) =>
            Task.FromResult(new[] { Interlocked.Increment(ref lookups) == 1 ? IPAddress.Loopback : IPAddress.Parse("127.0.0.2") }));
        var target = host.NewTargetDirectory();

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Handler<YouTubeHandler>().DownloadAsync(new Uri($"http://media.test:{_a.Port}/page.html"), target, 1_000_000, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal(
            $"The download led to http://media.test:{_a.Port}. The host 'media.test' resolves to a private or local network address (127.0.0.2), which is not allowed.",
            error.Message);
        Assert.Empty(_a.Requests);
    }
}
