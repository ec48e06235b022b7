using MediaActors.Providers.Ingestion;

namespace MediaActors.Providers.Tests.Ingestion;

/// <summary>The yt-dlp program (Debian's 2023.03.04) against local pages that embed the test clip.</summary>
public sealed class YtDlpDownloadTests : IClassFixture<TwoServers>
{
    private readonly TestMediaServer _a;
    private readonly TestMediaServer _b;

    public YtDlpDownloadTests(TwoServers servers)
    {
        _a = servers.A;
        _b = servers.B;
        _a.ClearRequests();
        _b.ClearRequests();
    }

    [Fact]
    public async Task A_web_page_link_yields_the_video_it_embeds()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();
        var progress = new RecordingProgress();

        var result = await host.Downloader.DownloadAsync(_a.Url("/page.html").AbsoluteUri, host.NewTargetDirectory(), progress, CancellationToken.None);

        Assert.Equal(SourcePlatform.Direct, result.Platform);
        Assert.Equal(await TestClip.BytesAsync(), await File.ReadAllBytesAsync(result.Media.FilePath));
        Assert.Equal("media.mp4", Path.GetFileName(result.Media.FilePath));
        Assert.StartsWith(TestMediaServer.PageTitle, result.Media.Title);
        Assert.Equal(1.0, progress.Values[^1]);
        // Our GET of the page, yt-dlp's GET of the page, then the clip through the guarded client.
        Assert.Equal(["/page.html", "/page.html", "/clip.mp4"], _a.Requests);
    }

    [Fact]
    public async Task A_platform_handler_downloads_with_yt_dlp_itself()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();
        var target = host.NewTargetDirectory();
        var progress = new RecordingProgress();

        var media = await host.Handler<YouTubeHandler>().DownloadAsync(_a.Url("/page.html"), target, 1_000_000, progress, CancellationToken.None);

        Assert.Equal(Path.Combine(target, "media.mp4"), media.FilePath);
        Assert.Equal(await TestClip.BytesAsync(), await File.ReadAllBytesAsync(media.FilePath));
        Assert.Equal((await TestClip.BytesAsync()).Length, media.SizeBytes);
        Assert.Equal("video/mp4", media.ContentType);
        Assert.StartsWith(TestMediaServer.PageTitle, media.Title);
        Assert.Equal(1.0, progress.Values[^1]);
        Assert.Equal(["media.mp4"], Directory.GetFiles(target).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_page_with_several_videos_yields_the_first()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();

        var media = await host.Handler<XHandler>().DownloadAsync(_a.Url("/two.html"), host.NewTargetDirectory(), 1_000_000, null, CancellationToken.None);

        Assert.Equal(await TestClip.BytesAsync(), await File.ReadAllBytesAsync(media.FilePath));
        Assert.DoesNotContain("/clip-chunked", _a.Requests);
    }

    [Fact]
    public async Task A_page_without_a_video_fails_permanently()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Downloader.DownloadAsync(_a.Url("/empty.html").AbsoluteUri, host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.StartsWith("yt-dlp could not get the video: ", error.Message);
        Assert.Contains("Unsupported URL", error.Message);
    }

    [Theory]
    [InlineData(404, false)]
    [InlineData(403, false)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    public async Task Yt_dlp_http_errors_map_to_permanent_or_retryable(int status, bool retryable)
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Handler<VimeoHandler>().DownloadAsync(_a.Url($"/status/{status}"), host.NewTargetDirectory(), 1_000_000, null, CancellationToken.None));

        Assert.Equal(retryable, error.Transient);
        Assert.Contains($"HTTP Error {status}", error.Message);
    }

    [Fact]
    public async Task A_video_over_the_size_limit_fails_permanently_and_leaves_no_file()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();
        var target = host.NewTargetDirectory();

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Handler<TikTokHandler>().DownloadAsync(_a.Url("/page.html"), target, 10_000, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Contains("larger than the limit of 10000 bytes", error.Message);
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task A_video_without_an_announced_size_is_stopped_when_the_counted_bytes_pass_the_limit()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();
        var target = host.NewTargetDirectory();
        var page = _a.Url($"/embed.html?src={Uri.EscapeDataString("/clip-chunked")}");

        var error = await Assert.ThrowsAsync<StepException>(() => host.Handler<TikTokHandler>().DownloadAsync(page, target, 20_000, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Contains("larger than the limit of 20000 bytes", error.Message);
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task A_private_page_is_refused_before_yt_dlp_runs()
    {
        using var host = IngestionTestHost.Production();

        var error = await Assert.ThrowsAsync<AddressRefusedException>(() =>
            host.Handler<YouTubeHandler>().DownloadAsync(_a.Url("/page.html"), host.NewTargetDirectory(), 1_000_000, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal("The link points to a private or local network address (127.0.0.1), which is not allowed.", error.Message);
        Assert.Empty(_a.Requests);
    }

    [Fact]
    public async Task A_platform_video_served_from_a_private_address_is_refused_before_downloading()
    {
        using var host = IngestionTestHost.AllowingOnly(_a);
        var page = _a.Url($"/embed.html?src={Uri.EscapeDataString(_b.Url("/clip.mp4").AbsoluteUri)}");
        var target = host.NewTargetDirectory();

        var error = await Assert.ThrowsAsync<StepException>(() => host.Handler<XHandler>().DownloadAsync(page, target, 1_000_000, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal(
            $"The video is served from http://127.0.0.1:{_b.Port}. The link points to a private or local network address (127.0.0.1), which is not allowed.",
            error.Message);
        Assert.Empty(_b.Requests);
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task A_page_whose_video_redirects_to_a_private_address_is_refused_at_the_redirect()
    {
        using var host = IngestionTestHost.AllowingOnly(_a);
        var redirect = "/redirect?to=" + Uri.EscapeDataString(_b.Url("/clip.mp4").AbsoluteUri);
        var page = _a.Url($"/embed.html?src={Uri.EscapeDataString(redirect)}");

        var error = await Assert.ThrowsAsync<StepException>(() => host.Downloader.DownloadAsync(page.AbsoluteUri, host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal(
            $"The link redirected to http://127.0.0.1:{_b.Port}. The link points to a private or local network address (127.0.0.1), which is not allowed.",
            error.Message);
        Assert.Empty(_b.Requests);
    }

    [Fact]
    public async Task Cancelling_during_the_download_kills_yt_dlp_and_deletes_the_partial_file()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();
        var target = host.NewTargetDirectory();
        var page = _a.Url($"/embed.html?src={Uri.EscapeDataString("/slow.mp4")}");
        using var cancellation = new CancellationTokenSource();
        var running = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new RecordingProgress(_ => running.TrySetResult(YtDlpProcesses.Running(target)));

        var download = host.Handler<FacebookHandler>().DownloadAsync(page, target, 100_000_000, progress, cancellation.Token);
        Assert.True(await running.Task.WaitAsync(TimeSpan.FromSeconds(30)), "yt-dlp was not found running while it reported progress");
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => download);
        Assert.False(YtDlpProcesses.Running(target));
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task Cancelling_while_yt_dlp_reads_the_page_kills_it()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();
        var token = Guid.NewGuid().ToString("N");
        using var cancellation = new CancellationTokenSource();

        var download = host.Handler<InstagramHandler>().DownloadAsync(_a.Url($"/hang.html?run={token}"), host.NewTargetDirectory(), 1_000_000, null, cancellation.Token);
        await _a.HangHit.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(YtDlpProcesses.Running(token));
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => download);
        Assert.False(YtDlpProcesses.Running(token));
    }

    [Fact]
    public async Task A_missing_yt_dlp_program_is_a_clear_permanent_error()
    {
        using var host = new IngestionTestHost(new()
        {
            ["Ingestion:AllowPrivateNetworks"] = "true",
            ["Ingestion:YtDlpPath"] = "/nonexistent/yt-dlp",
        });

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Handler<YouTubeHandler>().DownloadAsync(_a.Url("/page.html"), host.NewTargetDirectory(), 1_000_000, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.StartsWith("yt-dlp could not be started ('/nonexistent/yt-dlp'", error.Message);
        Assert.EndsWith("Install yt-dlp or set Ingestion:YtDlpPath.", error.Message);
    }
}

/// <summary>Finds live yt-dlp processes by a unique token in their command line (/proc on Linux).</summary>
internal static class YtDlpProcesses
{
    /// <summary>The command line and environment ("NAME=value" lines) of a running yt-dlp whose command line holds the token.</summary>
    public static (string CommandLine, string Environment)? Find(string token)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains("yt-dlp", StringComparison.Ordinal) && commandLine.Contains(token, StringComparison.Ordinal))
                {
                    return (commandLine, File.ReadAllText(Path.Combine(directory, "environ")).Replace('\0', '\n'));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked, or is not ours.
            }
        }

        return null;
    }

    public static bool Running(string token)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out _))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains("yt-dlp", StringComparison.Ordinal) && commandLine.Contains(token, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return false;
    }
}
