using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MediaActors.Providers.Avatar;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace MediaActors.Providers.Tests.Fakes;

/// <summary>
/// A local avatar-video generator (the n8n-style workflow MediaActors dispatches to): it checks each dispatch's signature
/// with the production verifier, answers with an execution id (or an injected error), serves result files, and makes
/// the signed callbacks a real workflow would make when the test says so.
/// </summary>
public sealed class FakeAvatarGenerator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(int Status, string Body)> _failures = new();
    private readonly ConcurrentDictionary<string, (byte[] Content, string ContentType)> _files = new();
    private int _executions;

    private FakeAvatarGenerator(WebApplication app, string secret)
    {
        _app = app;
        Secret = secret;
    }

    public string Secret { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Where MediaActors dispatches (Avatar:GeneratorUrl).</summary>
    public Uri GeneratorUrl => new(BaseAddress, "webhook/generate");

    /// <summary>Every dispatch received, in order: its body and whether its signature held.</summary>
    public ConcurrentQueue<(JsonElement Body, SignatureProblem Signature)> Dispatches { get; } = new();

    public static async Task<FakeAvatarGenerator> StartAsync(string secret)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        var app = builder.Build();
        var generator = new FakeAvatarGenerator(app, secret);
        app.Urls.Add("http://127.0.0.1:0");
        app.Run(generator.HandleAsync);
        await app.StartAsync();
        generator.BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/");
        return generator;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The next dispatch is answered with this status and body.</summary>
    public void FailNext(int status, string body = "{\"message\":\"Injected failure.\"}") => _failures.Enqueue((status, body));

    /// <summary>Serves <paramref name="content"/> at the returned URL (a finished video, or anything else).</summary>
    public Uri AddFile(string name, byte[] content, string contentType = "video/mp4")
    {
        _files[name] = (content, contentType);
        return new Uri(BaseAddress, $"files/{name}");
    }

    /// <summary>Waits for the dispatch of <paramref name="videoId"/> (30 s at most).</summary>
    public async Task<(JsonElement Body, SignatureProblem Signature)> DispatchOfAsync(string videoId)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            foreach (var dispatch in Dispatches)
            {
                if (dispatch.Body.GetProperty("videoId").GetString() == videoId)
                {
                    return dispatch;
                }
            }
        }

        throw new TimeoutException($"No dispatch of video {videoId} reached the generator.");
    }

    /// <summary>
    /// POSTs <paramref name="body"/> to a MediaActors webhook the way the workflow does: signed with the shared secret (or
    /// <paramref name="secret"/>) at <paramref name="timestamp"/> (now by default).
    /// </summary>
    public async Task<HttpResponseMessage> CallbackAsync(Uri url, object body, DateTimeOffset? timestamp = null, string? secret = null)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        var at = (timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add(WebhookSignature.TimestampHeader, at.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret ?? Secret, at, bytes));
        return await client.SendAsync(request);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (context.Request.Method == "GET" && path.StartsWith("/files/", StringComparison.Ordinal) && _files.TryGetValue(path["/files/".Length..], out var file))
        {
            context.Response.ContentType = file.ContentType;
            context.Response.ContentLength = file.Content.Length;
            await context.Response.Body.WriteAsync(file.Content);
            return;
        }

        if (context.Request.Method != "POST" || path != "/webhook/generate")
        {
            context.Response.StatusCode = 404;
            return;
        }

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var signature = WebhookSignature.Verify(Secret, context.Request.Headers[WebhookSignature.TimestampHeader], context.Request.Headers[WebhookSignature.SignatureHeader],
            body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
        Dispatches.Enqueue((JsonDocument.Parse(body).RootElement.Clone(), signature));
        if (signature != SignatureProblem.None)
        {
            context.Response.StatusCode = 401;
            return;
        }

        if (_failures.TryDequeue(out var failure))
        {
            context.Response.StatusCode = failure.Status;
            await context.Response.WriteAsync(failure.Body, Encoding.UTF8);
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { executionId = $"exec-{Interlocked.Increment(ref _executions)}" }));
    }
}
