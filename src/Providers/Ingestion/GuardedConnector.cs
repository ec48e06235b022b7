using System.Net;
using System.Net.Sockets;

namespace MediaActors.Providers.Ingestion;

/// <summary>
/// Opens TCP connections for ingestion: resolves the host once through the <see cref="NetworkGuard"/>, which checks
/// EVERY address, and connects only to those checked addresses, so no second DNS answer can swap in another one.
/// Used by the guarded HttpClient and by the filtering proxy that yt-dlp connects through.
/// </summary>
internal static class GuardedConnector
{
    /// <summary>A connected socket to <paramref name="host"/>:<paramref name="port"/>; a refused address throws a <see cref="StepException"/>.</summary>
    public static async Task<Socket> ConnectAsync(NetworkGuard guard, string host, int port, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        var addresses = await guard.ResolveAsync(host, port, cancellationToken);
        Exception? lastError = null;
        // IPv4 first: hosts without an IPv6 route would otherwise spend the whole connect timeout on the first address.
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) was checked as its IPv4 address: connect to that (sockets here are not dual-mode).
        var targets = addresses.Select(address => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).Distinct();
        foreach (var address in targets.OrderBy(address => address.AddressFamily == AddressFamily.InterNetwork ? 0 : 1))
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(connectTimeout);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
                return socket;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                lastError = new SocketException((int)SocketError.TimedOut);
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
