using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MediaActors.Providers.Tests.Ingestion;

/// <summary>A real Kestrel server on 127.0.0.1 with an ephemeral port serving the test clip, pages, redirects and failures.</summary>
public sealed class TestMediaServer : IAsyncDisposable
{
    public const string PageTitle = "Local clip page";
    public const int SlowLength = 50_000_000;
    public const int SegmentCount = 3;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentQueue<RawRequest> _raw = new();
    private TaskCompletionSource _hangHit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestMediaServer(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    public int Port => BaseUri.Port;

    /// <summary>Path and query of every request received, in order.</summary>
    public IReadOnlyList<string> Requests => _requests.ToArray();

    /// <summary>Completes when yt-dlp (a browser-like User-Agent, unlike our own HttpClient) requests /hang.html.</summary>
    public Task HangHit => _hangHit.Task;

    /// <summary>Every request as it arrived: the request target exactly as sent, the Host header and the User-Agent.</summary>
    public IReadOnlyList<RawRequest> RawRequests => _raw.ToArray();

    public Uri Url(string pathAndQuery) => new(BaseUri, pathAndQuery);

    public void ClearRequests()
    {
        _requests.Clear();
        _raw.Clear();
        _hangHit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static async Task<TestMediaServer> StartAsync()
    {
        var clip = await TestClip.BytesAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new TestMediaServer(app);
        app.Use(async (context, next) =>
        {
            server._requests.Enqueue(context.Request.Path + context.Request.QueryString);
            var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "";
            server._raw.Enqueue(new RawRequest(raw, context.Request.Headers.Host.ToString(), context.Request.Headers.UserAgent.ToString()));
            await next(context);
        });
        app.MapGet("/clip.mp4", () => Results.Bytes(clip, "video/mp4"));
        app.MapGet("/clip-chunked", async (HttpContext context) =>
        {
            // No Content-Length: the size limit can only be enforced by counting.
            context.Response.ContentType = "video/mp4";
            foreach (var chunk in clip.Chunk(8192))
            {
                await context.Response.Body.WriteAsync(chunk);
                await context.Response.Body.FlushAsync();
            }
        });
        app.MapGet("/page.html", () => Html($"<video controls src=\"/clip.mp4\"></video>"));
        app.MapGet("/embed.html", (string src) => Html($"<video controls src=\"{WebUtility.HtmlEncode(src)}\"></video>"));
        app.MapGet("/two.html", () => Html("<video src=\"/clip.mp4\"></video><video src=\"/clip-chunked\"></video>"));
        app.MapGet("/empty.html", () => Html("<p>No video here.</p>"));
        // An HLS media playlist of the clip in three segments, served from this server or from the one "base" names.
        app.MapGet("/hls.m3u8", (string? @base) =>
        {
            var prefix = string.IsNullOrEmpty(@base) ? "" : @base.TrimEnd('/');
            var playlist = new System.Text.StringBuilder("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n");
            for (var index = 0; index < SegmentCount; index++)
            {
                playlist.Append("#EXTINF:1.0,\n").Append(prefix).Append("/segment/").Append(index).Append('\n');
            }

            playlist.Append("#EXT-X-ENDLIST\n");
            return Results.Text(playlist.ToString(), "application/vnd.apple.mpegurl");
        });
        app.MapGet("/segment/{index:int}", (int index) => index is >= 0 and < SegmentCount
            ? Results.Bytes(Segment(clip, index), "video/mp2t")
            : Results.NotFound());
        app.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));
        app.MapGet("/redirect", (string to) => Results.Redirect(to));
        app.MapGet("/loop", () => Results.Redirect("/loop"));
        app.MapGet("/slow.mp4", async (HttpContext context) =>
        {
            // Announces 50 MB, sends a little, then stalls until the client goes away.
            context.Response.ContentType = "video/mp4";
            context.Response.ContentLength = SlowLength;
            await context.Response.Body.WriteAsync(clip.AsMemory(0, Math.Min(clip.Length, 32 * 1024)));
            await context.Response.Body.FlushAsync();
            await WaitUntilAbortedAsync(context);
        });
        app.MapGet("/hang.html", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync("<html><head>");
            await context.Response.Body.FlushAsync();
            if (context.Request.Headers.UserAgent.ToString().Contains("Mozilla", StringComparison.Ordinal))
            {
                server._hangHit.TrySetResult();
            }

            await WaitUntilAbortedAsync(context);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUri = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Segment <paramref name="index"/> of the clip cut in <see cref="SegmentCount"/> byte ranges.</summary>
    public static byte[] Segment(byte[] clip, int index)
    {
        var size = (clip.Length + SegmentCount - 1) / SegmentCount;
        return clip.AsSpan(index * size, Math.Min(size, clip.Length - index * size)).ToArray();
    }

    private static IResult Html(string body) =>
        Results.Content($"<!DOCTYPE html><html><head><title>{PageTitle}</title></head><body>{body}</body></html>", "text/html");

    private static async Task WaitUntilAbortedAsync(HttpContext context)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>Two servers: A (allowed in the "one endpoint allowed" configuration) and B (never allowed there).</summary>
public sealed class TwoServers : IAsyncLifetime
{
    public TestMediaServer A { get; private set; } = null!;

    public TestMediaServer B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        A = await TestMediaServer.StartAsync();
        B = await TestMediaServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
    }
}

public sealed record RawRequest(string Target, string Host, string UserAgent);
