using System.Net;
using System.Net.Sockets;
using MediaActors.Providers.Ingestion;

namespace MediaActors.Providers.Tests.Ingestion;

/// <summary>Direct media links through the guarded HttpClient, against real local servers.</summary>
public sealed class DirectDownloadTests : IClassFixture<TwoServers>
{
    private readonly TestMediaServer _a;
    private readonly TestMediaServer _b;

    public DirectDownloadTests(TwoServers servers)
    {
        _a = servers.A;
        _b = servers.B;
        _a.ClearRequests();
        _b.ClearRequests();
    }

    [Fact]
    public async Task Downloads_a_media_file_and_the_bytes_match()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();
        var target = host.NewTargetDirectory();
        var progress = new RecordingProgress();

        var result = await host.Downloader.DownloadAsync(_a.Url("/clip.mp4").AbsoluteUri, target, progress, CancellationToken.None);

        Assert.Equal(SourcePlatform.Direct, result.Platform);
        Assert.Equal(Path.Combine(target, "media.mp4"), result.Media.FilePath);
        Assert.Equal(await TestClip.BytesAsync(), await File.ReadAllBytesAsync(result.Media.FilePath));
        Assert.Equal((await TestClip.BytesAsync()).Length, result.Media.SizeBytes);
        Assert.Equal("video/mp4", result.Media.ContentType);
        Assert.Equal("clip", result.Media.Title);
        Assert.Equal(1.0, progress.Values[^1]);
        Assert.True(progress.Values.Zip(progress.Values.Skip(1)).All(pair => pair.First <= pair.Second));
    }

    [Fact]
    public async Task Downloads_a_response_without_content_length()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();

        var result = await host.Downloader.DownloadAsync(_a.Url("/clip-chunked").AbsoluteUri, host.NewTargetDirectory(), null, CancellationToken.None);

        Assert.Equal(await TestClip.BytesAsync(), await File.ReadAllBytesAsync(result.Media.FilePath));
    }

    [Theory]
    [InlineData("/clip.mp4")]
    [InlineData("/clip-chunked")]
    public async Task A_file_over_the_size_limit_fails_permanently_and_leaves_no_file(string path)
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks(maxBytes: 10_000);
        var target = host.NewTargetDirectory();

        var error = await Assert.ThrowsAsync<StepException>(() => host.Downloader.DownloadAsync(_a.Url(path).AbsoluteUri, target, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Contains("larger than the limit of 10000 bytes", error.Message);
        Assert.Empty(Directory.Exists(target) ? Directory.GetFiles(target) : []);
    }

    [Theory]
    [InlineData(404, false)]
    [InlineData(410, false)]
    [InlineData(403, false)]
    [InlineData(401, false)]
    [InlineData(400, false)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(429, true)]
    [InlineData(408, true)]
    public async Task Http_errors_map_to_permanent_or_retryable(int status, bool retryable)
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Downloader.DownloadAsync(_a.Url($"/status/{status}").AbsoluteUri, host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.Equal(retryable, error.Transient);
        Assert.Contains($"(HTTP {status})", error.Message);
    }

    [Fact]
    public async Task A_refused_connection_is_retryable()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();
        var closedPort = ClosedPort();

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Downloader.DownloadAsync($"http://127.0.0.1:{closedPort}/clip.mp4", host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.True(error.Transient);
        Assert.Equal($"Could not connect to http://127.0.0.1:{closedPort}.", error.Message);
    }

    [Fact]
    public async Task A_server_that_stops_sending_times_out_as_retryable_and_the_partial_file_is_deleted()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks(socketTimeout: "00:00:01");
        var target = host.NewTargetDirectory();

        var error = await Assert.ThrowsAsync<StepException>(() => host.Downloader.DownloadAsync(_a.Url("/slow.mp4").AbsoluteUri, target, null, CancellationToken.None));

        Assert.True(error.Transient);
        Assert.Equal($"{LinkRules.Origin(_a.BaseUri)} sent nothing for 1 seconds.", error.Message);
        // On a slow start the timeout may strike before the response headers, when the folder is not made yet.
        Assert.False(Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any());
    }

    [Fact]
    public async Task Cancelling_stops_the_download_and_deletes_the_partial_file()
    {
        using var host = IngestionTestHost.AllowingPrivateNetworks();
        var target = host.NewTargetDirectory();
        using var cancellation = new CancellationTokenSource();
        var progress = new RecordingProgress(_ => cancellation.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => host.Downloader.DownloadAsync(_a.Url("/slow.mp4").AbsoluteUri, target, progress, cancellation.Token));

        Assert.NotEmpty(progress.Values);
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public async Task A_loopback_address_is_refused_before_any_connection()
    {
        using var host = IngestionTestHost.Production();

        var error = await Assert.ThrowsAsync<AddressRefusedException>(() =>
            host.Downloader.DownloadAsync(_a.Url("/clip.mp4").AbsoluteUri, host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal("The link points to a private or local network address (127.0.0.1), which is not allowed.", error.Message);
        Assert.Empty(_a.Requests);
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_is_refused()
    {
        using var host = IngestionTestHost.Production();

        var error = await Assert.ThrowsAsync<AddressRefusedException>(() =>
            host.Downloader.DownloadAsync($"http://localhost:{_a.Port}/clip.mp4", host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.StartsWith("The host 'localhost' resolves to a private or local network address (", error.Message);
        Assert.Empty(_a.Requests);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[::ffff:169.254.169.254]/latest/meta-data/")]
    [InlineData("http://10.1.2.3/")]
    [InlineData("http://0.0.0.0/")]
    [InlineData("http://2130706433/")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1/")]
    public async Task Private_and_metadata_addresses_are_refused(string link)
    {
        using var host = IngestionTestHost.Production();

        var error = await Assert.ThrowsAsync<AddressRefusedException>(() => host.Downloader.DownloadAsync(link, host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.EndsWith("which is not allowed.", error.Message);
    }

    [Fact]
    public async Task The_allowed_first_hop_works_including_its_own_redirects()
    {
        using var host = IngestionTestHost.AllowingOnly(_a);

        var result = await host.Downloader.DownloadAsync(_a.Url("/redirect?to=/clip.mp4").AbsoluteUri, host.NewTargetDirectory(), null, CancellationToken.None);

        Assert.Equal(await TestClip.BytesAsync(), await File.ReadAllBytesAsync(result.Media.FilePath));
        Assert.Equal(["/redirect?to=/clip.mp4", "/clip.mp4"], _a.Requests);
    }

    [Fact]
    public async Task A_redirect_to_a_private_address_is_refused_and_never_connected()
    {
        using var host = IngestionTestHost.AllowingOnly(_a);
        var target = _b.Url("/clip.mp4").AbsoluteUri;

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Downloader.DownloadAsync(_a.Url($"/redirect?to={Uri.EscapeDataString(target)}").AbsoluteUri, host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal(
            $"The link redirected to http://127.0.0.1:{_b.Port}. The link points to a private or local network address (127.0.0.1), which is not allowed.",
            error.Message);
        Assert.Single(_a.Requests);
        Assert.Empty(_b.Requests);
    }

    [Theory]
    [InlineData("http://localhost:{B}/clip.mp4", "The host 'localhost' resolves to a private or local network address")]
    [InlineData("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "(169.254.169.254), which is not allowed.")]
    [InlineData("http://[fd00:ec2::254]/latest/meta-data/", "(fd00:ec2::254), which is not allowed.")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata service (metadata.google.internal)")]
    [InlineData("ftp://127.0.0.1/clip.mp4", "The link redirected to a link that is not allowed: Only http and https links are supported, not 'ftp:'.")]
    [InlineData("file:///etc/passwd", "The link redirected to a link that is not allowed: Only http and https links are supported, not 'file:'.")]
    [InlineData("http://user:pw@127.0.0.1:{A}/clip.mp4", "The link redirected to a link that is not allowed: Links with a user name or password")]
    public async Task Every_redirect_hop_is_checked(string redirectTarget, string expected)
    {
        using var host = IngestionTestHost.AllowingOnly(_a);
        var to = redirectTarget.Replace("{A}", _a.Port.ToString(), StringComparison.Ordinal).Replace("{B}", _b.Port.ToString(), StringComparison.Ordinal);

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Downloader.DownloadAsync(_a.Url($"/redirect?to={Uri.EscapeDataString(to)}").AbsoluteUri, host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("pw", error.Message);
        Assert.Empty(_b.Requests);
    }

    [Fact]
    public async Task Redirects_stop_after_the_configured_number()
    {
        using var host = IngestionTestHost.AllowingOnly(_a);

        var error = await Assert.ThrowsAsync<StepException>(() =>
            host.Downloader.DownloadAsync(_a.Url("/loop").AbsoluteUri, host.NewTargetDirectory(), null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal("The link redirected more than 5 times.", error.Message);
        Assert.Equal(6, _a.Requests.Count);
    }

    [Theory]
    [InlineData(5L * 1024 * 1024 * 1024, "The media at the link is larger than the limit of 5368709120 bytes (5 GiB).")]
    [InlineData(300L * 1024 * 1024, "The media at the link is larger than the limit of 314572800 bytes (300 MiB).")]
    [InlineData(10_000L, "The media at the link is larger than the limit of 10000 bytes.")]
    public void The_size_limit_message_names_the_limit(long limit, string expected) =>
        Assert.Equal(expected, HttpMediaDownloader.TooLarge(limit).Message);

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
