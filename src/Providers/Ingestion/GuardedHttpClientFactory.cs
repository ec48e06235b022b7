using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Ingestion;

/// <summary>
/// HttpClients for fetching user-supplied links. Every connection resolves its host itself, checks every address with
/// the <see cref="NetworkGuard"/> and connects the socket to a checked address (no DNS rebinding between check and
/// connect); redirects are followed by <see cref="GuardedRedirectHandler"/>, so each hop is validated and guarded too.
/// </summary>
public sealed class GuardedHttpClientFactory : IDisposable
{
    private readonly NetworkGuard _guard;
    private readonly HttpMessageHandler _handler;
    private readonly TimeSpan _connectTimeout;

    public GuardedHttpClientFactory(NetworkGuard guard, IOptions<IngestionOptions> options)
    {
        _guard = guard;
        var settings = options.Value;
        _connectTimeout = settings.SocketTimeout;
        var sockets = new SocketsHttpHandler
        {
            // A proxy would receive the connection instead of the checked address: never use one implicitly.
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = settings.SocketTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
        _handler = new GuardedRedirectHandler(settings.MaxRedirects) { InnerHandler = sockets };
    }

    /// <summary>A client over the shared guarded handler; disposing it leaves the handler open. It has no timeout of its own.</summary>
    public HttpClient CreateClient() => new(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

    public void Dispose() => _handler.Dispose();

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = await GuardedConnector.ConnectAsync(_guard, context.DnsEndPoint.Host, context.DnsEndPoint.Port, _connectTimeout, cancellationToken);
        return new NetworkStream(socket, ownsSocket: true);
    }
}
