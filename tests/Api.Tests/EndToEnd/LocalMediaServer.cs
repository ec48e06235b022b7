using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>A real HTTP server on loopback serving a folder (with range requests), counting the bytes it served per file.</summary>
public sealed class LocalMediaServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _served = new();

    private LocalMediaServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Serves <paramref name="folder"/>; each entry of <paramref name="redirects"/> maps a path ("/old") to a 302 target.</summary>
    public static async Task<LocalMediaServer> StartAsync(string folder, IReadOnlyDictionary<string, string>? redirects = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new LocalMediaServer(app);
        app.Use(async (context, next) =>
        {
            var counting = new CountingStream(context.Response.Body);
            context.Response.Body = counting;
            await next();
            server._served.AddOrUpdate(context.Request.Path.Value!.TrimStart('/'), counting.Written, (_, n) => n + counting.Written);
        });
        app.Use(async (context, next) =>
        {
            if (redirects is not null && redirects.TryGetValue(context.Request.Path.Value ?? "", out var target))
            {
                context.Response.Redirect(target);
                return;
            }

            await next();
        });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(folder),
            ServeUnknownFileTypes = true,
        });
        await app.StartAsync();
        server.BaseUrl = app.Urls.First();
        return server;
    }

    public string Url(string file) => $"{BaseUrl}/{file}";

    public long BytesServed(string file) => _served.GetValueOrDefault(file);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Written += count;
            inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken);
        }
    }
}
