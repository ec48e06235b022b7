using System.Net;
using MediaActors.Providers.Ingestion;

namespace MediaActors.Providers.Tests.Ingestion;

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
    public async Task A_no_proxy_setting_inherited_from_the_host_does_not_let_yt_dlp_around_the_proxy()
    {
        var saved = new[] { "NO_PROXY", "no_proxy" }.ToDictionary(name => name, Environment.GetEnvironmentVariable);
        Environment.SetEnvironmentVariable("NO_PROXY", "*");
        Environment.SetEnvironmentVariable("no_proxy", "127.0.0.1,localhost");
        try
        {
            using var host = IngestionTestHost.AllowingOnly(_a);
            var redirect = "/redirect?to=" + Uri.EscapeDataString($"http://127.0.0.1:{_b.Port}/clip.mp4");
            var page = _a.Url($"/embed.html?src={Uri.EscapeDataString(redirect)}");

            var error = await Assert.ThrowsAsync<StepException>(() =>
                host.Handler<XHandler>().DownloadAsync(page, host.NewTargetDirectory(), 1_000_000, null, CancellationToken.None));

            Assert.StartsWith($"The download led to http://127.0.0.1:{_b.Port}.", error.Message);
            Assert.Empty(_b.Requests);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    [Fact]
    public async Task The_proxy_credentials_are_not_on_yt_dlps_command_line()
    {
        using var host = IngestionTestHost.AllowingOnly(_a);
        var token = Guid.NewGuid().ToString("N");
        using var cancellation = new CancellationTokenSource();

        var download = host.Handler<InstagramHandler>().DownloadAsync(_a.Url($"/hang.html?run={token}"), host.NewTargetDirectory(), 1_000_000, null, cancellation.Token);
        await _a.HangHit.WaitAsync(TimeSpan.FromSeconds(30));
        var (commandLine, environment) = YtDlpProcesses.Find(token) ?? throw new InvalidOperationException("yt-dlp was not found running");
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => download);

        // Other local users can read a command line but not another user's environment.
        Assert.DoesNotContain("mediaactors:", commandLine);
        Assert.DoesNotContain("--proxy", commandLine);
        Assert.Contains("http_proxy=http://mediaactors:", environment);
        Assert.DoesNotContain("no_proxy=", environment, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_target_whose_name_cannot_be_found_fails_with_that_reason_not_a_gateway_error()
    {
        using var host = IngestionTestHost.AllowingOnly(_a, (name, _) => name == "gone.test"
            ? Task.FromException<IPAddress[]>(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound))
            : Task.FromResult(new[] { IPAddress.Loopback }));
        var redirect = "/redirect?to=" + Uri.EscapeDataString($"http://gone.test:{_a.Port}/clip.mp4");
        var page = _a.Url($"/embed.html?src={Uri.EscapeDataString(redirect)}");

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Handler<XHandler>().DownloadAsync(page, host.NewTargetDirectory(), 1_000_000, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal($"The download led to http://gone.test:{_a.Port}. The host 'gone.test' could not be found.", error.Message);
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
