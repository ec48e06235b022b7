using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Ingestion;

/// <summary>
/// HttpClients for fetching user-supplied links. Every connection resolves its host itself, checks every address with
/// the <see cref="NetworkGuard"/> and connects the socket to a checked address (no DNS rebinding between check and
/// connect); redirects are followed by <see cref="GuardedRedirectHandler"/>, so each hop is validated and guarded too.
/// </summary>
public sealed class GuardedHttpClientFactory : IDisposable
{
    private readonly NetworkGuard _guard;
    private readonly HttpMessageHandler _handler;

    public GuardedHttpClientFactory(NetworkGuard guard, IOptions<IngestionOptions> options)
    {
        _guard = guard;
        var settings = options.Value;
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
        var endPoint = context.DnsEndPoint;
        var addresses = await _guard.ResolveAsync(endPoint.Host, endPoint.Port, cancellationToken);
        Exception? lastError = null;
        // IPv4 first: hosts without an IPv6 route would otherwise spend the whole connect timeout on the first address.
        foreach (var address in addresses.OrderBy(address => address.AddressFamily == AddressFamily.InterNetwork ? 0 : 1))
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                lastError = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw lastError!;
    }
}
