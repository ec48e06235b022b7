using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MediaActors.Providers.Ingestion;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MediaActors.Providers.Tests.Ingestion;

/// <summary>The filtering proxy that yt-dlp connects through, driven by .NET's HttpClient and by raw sockets.</summary>
public sealed class GuardedProxyTests : IClassFixture<TwoServers>, IAsyncLifetime
{
    private readonly TestMediaServer _a;
    private readonly TestMediaServer _b;
    private WebApplication _tls = null!;
    private int _tlsPort;

    public GuardedProxyTests(TwoServers servers)
    {
        _a = servers.A;
        _b = servers.B;
        _a.ClearRequests();
        _b.ClearRequests();
    }

    public async Task InitializeAsync()
    {
        // An https server with a throwaway certificate: the tunnel carries TLS end to end, the proxy never sees inside it.
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        _tls = builder.Build();
        _tls.MapGet("/secret", () => Results.Text("over tls"));
        await _tls.StartAsync();
        _tlsPort = new Uri(_tls.Urls.First()).Port;
    }

    public async Task DisposeAsync() => await _tls.DisposeAsync();

    [Fact]
    public async Task A_plain_http_request_to_an_allowed_server_is_forwarded()
    {
        await using var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        using var client = ClientThrough(proxy);

        var bytes = await client.GetByteArrayAsync(_a.Url("/clip.mp4"));

        Assert.Equal(await TestClip.BytesAsync(), bytes);
        Assert.Equal(["/clip.mp4"], _a.Requests);
        Assert.Equal(1, proxy.ForwardedCount);
        Assert.Null(proxy.Refusal);
    }

    [Fact]
    public async Task A_tunnel_to_an_allowed_https_server_carries_tls()
    {
        await using var proxy = StartProxy($"127.0.0.1:{_tlsPort}");
        using var client = ClientThrough(proxy);

        var text = await client.GetStringAsync($"https://127.0.0.1:{_tlsPort}/secret");

        Assert.Equal("over tls", text);
        Assert.Equal(1, proxy.ForwardedCount);
    }

    [Fact]
    public async Task A_plain_request_to_a_refused_address_gets_403_and_is_recorded()
    {
        await using var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        using var client = ClientThrough(proxy);

        using var response = await client.GetAsync(_b.Url("/clip.mp4"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var expected = $"The download led to http://127.0.0.1:{_b.Port}. The link points to a private or local network address (127.0.0.1), which is not allowed.";
        Assert.Equal(expected, (await response.Content.ReadAsStringAsync()).Trim());
        Assert.True(proxy.Refused.IsCompletedSuccessfully);
        Assert.Equal(expected, proxy.Refusal!.Message);
        Assert.Empty(_b.Requests);
        Assert.Equal(0, proxy.ForwardedCount);
    }

    [Fact]
    public async Task A_tunnel_to_a_refused_address_is_not_opened()
    {
        await using var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        using var client = ClientThrough(proxy);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync($"https://127.0.0.1:{_tlsPort}/secret"));

        Assert.Equal(
            $"The download led to https://127.0.0.1:{_tlsPort}. The link points to a private or local network address (127.0.0.1), which is not allowed.",
            proxy.Refusal?.Message);
        Assert.Equal(0, proxy.ForwardedCount);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Basic bWVkaWFhY3RvcnM6d3Jvbmc=")] // mediaactors:wrong
    public async Task A_client_without_this_runs_token_gets_407_and_nothing_is_forwarded(string? authorization)
    {
        await using var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        var head = $"GET {_a.Url("/clip.mp4")} HTTP/1.1\r\nHost: 127.0.0.1:{_a.Port}\r\n"
            + (authorization is null ? "" : $"Proxy-Authorization: {authorization}\r\n") + "\r\n";

        var answer = await RawAsync(proxy.Port, head);

        Assert.StartsWith("HTTP/1.1 407 Proxy Authentication Required\r\n", answer);
        Assert.Empty(_a.Requests);
        Assert.Equal(0, proxy.ForwardedCount);
    }

    [Theory]
    [InlineData("HELLO\r\n\r\n")]
    [InlineData("GET /relative HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET ftp://127.0.0.1/x HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n")]
    [InlineData("CONNECT user@127.0.0.1:80 HTTP/1.1\r\n\r\n")]
    [InlineData("GET http://user:pw@127.0.0.1:1/ HTTP/1.1\r\n\r\n")]
    public async Task A_malformed_or_unsupported_request_gets_400(string request)
    {
        await using var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        // Authorized, so that the answer is about the request itself.
        var authorized = request.Contains("\r\n\r\n", StringComparison.Ordinal) && request != "HELLO\r\n\r\n"
            ? request.Replace("\r\n\r\n", $"\r\nProxy-Authorization: {Authorization(proxy)}\r\n\r\n", StringComparison.Ordinal)
            : request;

        var answer = await RawAsync(proxy.Port, authorized);

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer);
        Assert.Equal(0, proxy.ForwardedCount);
    }

    [Fact]
    public async Task The_request_target_goes_up_exactly_as_written_with_the_checked_hosts_name()
    {
        await using var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        const string target = "/status/404/./x/../y%2e%2e?sig=a%2Fb&x=%zz";
        var head = $"GET http://127.0.0.1:{_a.Port}{target} HTTP/1.1\r\nHost: metadata.google.internal\r\nProxy-Authorization: {Authorization(proxy)}\r\n\r\n";

        await RawAsync(proxy.Port, head);

        var request = Assert.Single(_a.RawRequests);
        // Not normalised (a signed URL must stay byte for byte), and the Host is the checked target's, not the client's.
        Assert.Equal(target, request.Target);
        Assert.Equal($"127.0.0.1:{_a.Port}", request.Host);
    }

    [Fact]
    public async Task A_pipelined_second_request_is_not_forwarded()
    {
        await using var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        var one = $"GET http://127.0.0.1:{_a.Port}/clip.mp4 HTTP/1.1\r\nHost: 127.0.0.1:{_a.Port}\r\nProxy-Authorization: {Authorization(proxy)}\r\n\r\n";
        var two = $"GET http://127.0.0.1:{_b.Port}/page.html HTTP/1.1\r\nHost: 127.0.0.1:{_b.Port}\r\nProxy-Authorization: {Authorization(proxy)}\r\n\r\n";

        var answer = await RawAsync(proxy.Port, one + two);

        Assert.StartsWith("HTTP/1.1 200 ", answer);
        Assert.Equal(["/clip.mp4"], _a.Requests);
        Assert.Empty(_b.Requests);
        Assert.Equal(1, proxy.ForwardedCount);
    }

    [Fact]
    public async Task A_request_body_goes_up_by_its_content_length_and_chunked_bodies_are_refused()
    {
        await using var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        var authorization = $"Proxy-Authorization: {Authorization(proxy)}\r\n";

        var chunked = await RawAsync(proxy.Port,
            $"POST http://127.0.0.1:{_a.Port}/clip.mp4 HTTP/1.1\r\n{authorization}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        var twoLengths = await RawAsync(proxy.Port,
            $"POST http://127.0.0.1:{_a.Port}/clip.mp4 HTTP/1.1\r\n{authorization}Content-Length: 3\r\nContent-Length: 30\r\n\r\nabc");

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", chunked);
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", twoLengths);
        Assert.Empty(_a.Requests);
    }

    [Fact]
    public async Task An_ipv4_mapped_ipv6_target_connects_to_the_ipv4_address_it_was_checked_as()
    {
        await using var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        using var client = ClientThrough(proxy);

        var bytes = await client.GetByteArrayAsync($"http://[::ffff:127.0.0.1]:{_a.Port}/clip.mp4");

        Assert.Equal(await TestClip.BytesAsync(), bytes);
    }

    [Fact]
    public async Task Ending_the_run_closes_open_tunnels()
    {
        var proxy = StartProxy($"127.0.0.1:{_a.Port}");
        using var client = ClientThrough(proxy);
        // /slow.mp4 sends a little and then stalls until the client goes away.
        using var response = await client.GetAsync(_a.Url("/slow.mp4"), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1024];
        Assert.True(await body.ReadAsync(buffer) > 0);

        await proxy.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // The rest of the body never comes: the read ends (with an error or the end of the stream) instead of hanging.
        var read = body.ReadAtLeastAsync(new byte[TestMediaServer.SlowLength], TestMediaServer.SlowLength, throwOnEndOfStream: false).AsTask();
        var ended = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(read, ended);
        if (!read.IsFaulted)
        {
            Assert.True(await read < TestMediaServer.SlowLength);
        }
    }

    private static GuardedProxy StartProxy(string allowedEndpoint)
    {
        var options = new IngestionOptions { AllowedPrivateEndpoints = [allowedEndpoint] };
        return GuardedProxy.Start(new NetworkGuard(options, Dns.GetHostAddressesAsync), TimeSpan.FromSeconds(10), NullLogger.Instance);
    }

    private static HttpClient ClientThrough(GuardedProxy proxy)
    {
        var url = new Uri(proxy.Url);
        var credentials = url.UserInfo.Split(':');
        var handler = new HttpClientHandler
        {
            Proxy = new WebProxy($"http://127.0.0.1:{proxy.Port}") { Credentials = new NetworkCredential(credentials[0], credentials[1]) },
            UseProxy = true,
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    private static string Authorization(GuardedProxy proxy) =>
        "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes(Uri.UnescapeDataString(new Uri(proxy.Url).UserInfo)));

    private static async Task<string> RawAsync(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await socket.SendAsync(Encoding.Latin1.GetBytes(request));
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream, Encoding.Latin1);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }
}
