using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace MediaActors.Providers.Ingestion;

/// <summary>
/// A filtering HTTP forward proxy on 127.0.0.1 for one yt-dlp run (given in its environment, <see cref="Environment"/>), so that every connection yt-dlp
/// makes (the page, redirects it follows, the media, every HLS/DASH fragment) passes the <see cref="NetworkGuard"/>:
/// the proxy resolves each target itself, checks every address and connects to a checked one. yt-dlp never looks up
/// a name, so a DNS answer cannot change between the check and the connection.
/// <list type="bullet">
/// <item><c>CONNECT host:port</c> opens a tunnel (https); an absolute-form request (<c>GET http://host/path</c>) is
/// forwarded as an origin-form request with <c>Connection: close</c> (plain http). Nothing else is accepted.</item>
/// <item>Only a client that presents this run's one-time token (<c>Proxy-Authorization: Basic</c>) is served, so other
/// local processes cannot use the proxy to reach private addresses.</item>
/// <item>A refused target answers 403 and completes <see cref="Refused"/>, which stops the run: a refused fragment must
/// not be skipped silently.</item>
/// </list>
/// </summary>
internal sealed class GuardedProxy : IAsyncDisposable
{
    private const string User = "mediaactors";
    private const int MaxHeadBytes = 32 * 1024;
    private const int MaxConnections = 16;
    private const long MaxBodyBytes = 1024 * 1024;

    private readonly NetworkGuard _guard;
    private readonly TimeSpan _socketTimeout;
    private readonly ILogger _logger;
    private readonly Socket _listener;
    private readonly string _token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    private readonly byte[] _expectedAuthorization;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _slots = new(MaxConnections);
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private readonly TaskCompletionSource<Exception> _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _acceptLoop;
    private int _forwarded;
    private StepException? _lookupFailure;

    private GuardedProxy(NetworkGuard guard, TimeSpan socketTimeout, ILogger logger)
    {
        _guard = guard;
        _socketTimeout = socketTimeout;
        _logger = logger;
        _expectedAuthorization = Encoding.ASCII.GetBytes("Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes($"{User}:{_token}")));
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>The proxy's URL with this run's credentials.</summary>
    public string Url => $"http://{User}:{_token}@127.0.0.1:{Port}";

    /// <summary>
    /// The proxy variables for yt-dlp's environment (and ffmpeg's, should yt-dlp hand it a stream): every scheme through this
    /// proxy, and no exceptions (a NO_PROXY inherited from the host would let matching hosts be reached directly). In the
    /// environment rather than on the command line, which other local users can read.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>(StringComparer.Ordinal)
    {
        ["http_proxy"] = Url, ["HTTP_PROXY"] = Url, ["https_proxy"] = Url, ["HTTPS_PROXY"] = Url,
        ["all_proxy"] = null, ["ALL_PROXY"] = null, ["no_proxy"] = null, ["NO_PROXY"] = null, ["ftp_proxy"] = null, ["FTP_PROXY"] = null,
    };

    /// <summary>Completes with the guard's error for the first target the proxy refused; never faults.</summary>
    public Task<Exception> Refused => _refused.Task;

    /// <summary>The first refusal, or null when every target passed.</summary>
    public Exception? Refusal => _refused.Task.IsCompletedSuccessfully ? _refused.Task.Result : null;

    /// <summary>The last target whose name could not be looked up (not a refusal: the run goes on); what to report if the run then fails.</summary>
    public StepException? LookupFailure => Volatile.Read(ref _lookupFailure);

    /// <summary>How many connections were forwarded (tunnels and plain requests) so far.</summary>
    public int ForwardedCount => Volatile.Read(ref _forwarded);

    public static GuardedProxy Start(NetworkGuard guard, TimeSpan socketTimeout, ILogger logger) => new(guard, socketTimeout, logger);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(_connections.Keys);
        _refused.TrySetCanceled();
        // _slots is not disposed: a connection's continuation may still release it, and SemaphoreSlim holds nothing to free here.
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        await Task.Yield();
        while (!_stopping.IsCancellationRequested)
        {
            await _slots.WaitAsync(_stopping.Token);
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token);
            }
            catch
            {
                _slots.Release();
                throw;
            }

            var connection = ServeAsync(client);
            _connections[connection] = true;
            _ = connection.ContinueWith(done =>
            {
                _connections.TryRemove(done, out _);
                _slots.Release();
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        Socket? upstream = null;
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        // Disposing the sockets is what interrupts reads and writes in progress when the run ends.
        await using var closeOnStop = connection.Token.Register(() =>
        {
            client.Dispose();
            upstream?.Dispose();
        });
        try
        {
            client.NoDelay = true;
            var request = await ReadHeadAsync(client, connection.Token);
            if (request is null)
            {
                await RespondAsync(client, "400 Bad Request", "The proxy could not read the request.", connection.Token);
                return;
            }

            if (!IsAuthorized(request))
            {
                await RespondAsync(client, "407 Proxy Authentication Required", "This proxy serves one yt-dlp run only.", connection.Token,
                    "Proxy-Authenticate: Basic realm=\"mediaactors\"\r\n");
                return;
            }

            if (!TryTarget(request, out var host, out var port, out var origin, out var forwardHead, out var bodyLength))
            {
                await RespondAsync(client, "400 Bad Request", "Only CONNECT host:port and absolute http:// requests are proxied.", connection.Token);
                return;
            }

            try
            {
                upstream = await GuardedConnector.ConnectAsync(_guard, host, port, _socketTimeout, connection.Token);
            }
            catch (AddressRefusedException ex)
            {
                var refusal = new StepException($"The download led to {origin}. {ex.Message}", transient: false, ex);
                _logger.LogWarning("The ingestion proxy refused a connection to {Origin}: {Reason}", origin, ex.Message);
                _refused.TrySetResult(refusal);
                await RespondAsync(client, "403 Forbidden", refusal.Message, connection.Token);
                return;
            }
            catch (StepException ex)
            {
                // A failed lookup is not a refusal: yt-dlp may only have been trying something optional. Kept in case the run fails.
                Volatile.Write(ref _lookupFailure, new StepException($"The download led to {origin}. {ex.Message}", ex.Transient, ex));
                await RespondAsync(client, "502 Bad Gateway", ex.Message, connection.Token);
                return;
            }
            catch (SocketException ex)
            {
                await RespondAsync(client, "502 Bad Gateway", $"Connecting to {origin} failed ({ex.SocketErrorCode}).", connection.Token);
                return;
            }

            Interlocked.Increment(ref _forwarded);
            if (forwardHead is null)
            {
                await client.SendAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), connection.Token);
            }
            else
            {
                await upstream.SendAsync(forwardHead, connection.Token);
            }

            if (forwardHead is null)
            {
                // A tunnel: bytes both ways until either side ends (TLS inside; the proxy never sees it).
                if (request.Leftover.Length > 0)
                {
                    await upstream.SendAsync(request.Leftover, connection.Token);
                }

                await Task.WhenAll(PumpAsync(client, upstream, connection), PumpAsync(upstream, client, connection));
            }
            else
            {
                // One plain request: exactly its body goes up, nothing after it (a pipelined request would reach this host
                // unchecked and carry the token), then the answer comes down until the server closes.
                await ForwardBodyAsync(client, upstream, request, bodyLength, connection.Token);
                await PumpAsync(upstream, client, connection);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // The client or the server went away, or the run ended: nothing to report.
        }
        catch (Exception ex)
        {
            // Never let one connection's surprise end the run or its disposal.
            _logger.LogDebug(ex, "The ingestion proxy dropped a connection");
        }
        finally
        {
            client.Dispose();
            upstream?.Dispose();
        }
    }

    /// <summary>Copies one direction until its end, then half-closes the other side; a failure ends both directions.</summary>
    private static async Task PumpAsync(Socket from, Socket to, CancellationTokenSource connection)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, connection.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), connection.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            await connection.CancelAsync();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private bool IsAuthorized(ProxyRequest request)
    {
        var value = request.Header("Proxy-Authorization");
        return value is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(value.Trim()), _expectedAuthorization);
    }

    /// <summary>Where a request goes: host and port to connect to, the origin for messages, and the head to forward (null for a tunnel).</summary>
    private static bool TryTarget(ProxyRequest request, out string host, out int port, out string origin, out byte[]? forwardHead, out long bodyLength)
    {
        host = "";
        port = 0;
        origin = "";
        forwardHead = null;
        bodyLength = 0;
        if (request.Method == "CONNECT")
        {
            // "host:port" or "[v6]:port"; a tunnel is what urllib opens for https.
            var colon = request.Target.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(request.Target.AsSpan(colon + 1), out port) || port is < 1 or > 65535)
            {
                return false;
            }

            host = request.Target[..colon];
            if (host.Length == 0 || host.Any(c => c <= ' ' || c is '/' or '@' or '\\'))
            {
                return false;
            }

            origin = port == 443 ? $"https://{host}" : $"https://{host}:{port}";
            return true;
        }

        if (!Uri.TryCreate(request.Target, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || !LinkRules.TryValidate(uri, out _))
        {
            return false;
        }

        // A body is forwarded by its Content-Length only: chunked request bodies (which yt-dlp never sends) are refused.
        if (request.Header("Transfer-Encoding") is not null
            || request.Headers.Count(header => header.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) > 1
            || (request.Header("Content-Length") is { } length && (!long.TryParse(length, System.Globalization.NumberStyles.None, null, out bodyLength) || bodyLength > MaxBodyBytes)))
        {
            return false;
        }

        host = uri.IdnHost;
        port = uri.Port;
        origin = LinkRules.Origin(uri);
        // The path and query as the client wrote them (Uri would normalise escapes and dot segments, breaking signed URLs).
        var pathStart = request.Target.IndexOf('/', request.Target.IndexOf("//", StringComparison.Ordinal) + 2);
        var pathAndQuery = pathStart < 0 ? "/" : request.Target[pathStart..];
        var queryStart = request.Target.IndexOf('?');
        if (pathStart < 0 && queryStart >= 0)
        {
            pathAndQuery = "/" + request.Target[queryStart..];
        }

        var head = new StringBuilder();
        head.Append(request.Method).Append(' ').Append(pathAndQuery).Append(' ').Append(request.Version).Append("\r\n");
        // The Host is the checked target's, whatever the client said.
        head.Append("Host: ").Append(uri.Authority).Append("\r\n");
        foreach (var (name, value) in request.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        // One request per connection: a second request on it could name another host, which was never checked.
        head.Append("Connection: close\r\n\r\n");
        forwardHead = Encoding.Latin1.GetBytes(head.ToString());
        return true;
    }

    /// <summary>Sends exactly <paramref name="length"/> body bytes (what came with the head first), then stops reading the client.</summary>
    private static async Task ForwardBodyAsync(Socket client, Socket upstream, ProxyRequest request, long length, CancellationToken cancellationToken)
    {
        var first = request.Leftover.AsMemory(0, (int)Math.Min(length, request.Leftover.Length));
        if (first.Length > 0)
        {
            await upstream.SendAsync(first, cancellationToken);
        }

        var remaining = length - first.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (remaining > 0)
            {
                var read = await client.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
                if (read == 0)
                {
                    throw new IOException("The client ended the request body early.");
                }

                await upstream.SendAsync(buffer.AsMemory(0, read), cancellationToken);
                remaining -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads the request line and headers (at most 32 KiB within the socket timeout); null when malformed or cut short.</summary>
    private async Task<ProxyRequest?> ReadHeadAsync(Socket client, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_socketTimeout);
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
            if (read == 0)
            {
                return null;
            }

            var searchFrom = Math.Max(0, length - 3);
            length += read;
            var end = buffer.AsSpan(searchFrom, length - searchFrom).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var headLength = searchFrom + end + 4;
                return ProxyRequest.Parse(Encoding.Latin1.GetString(buffer, 0, headLength - 4), buffer.AsMemory(headLength, length - headLength).ToArray());
            }
        }

        return null;
    }

    private static async Task RespondAsync(Socket client, string status, string message, CancellationToken cancellationToken, string extraHeaders = "")
    {
        var body = Encoding.UTF8.GetBytes(message + "\n");
        var head = $"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n{extraHeaders}\r\n";
        await client.SendAsync(Encoding.ASCII.GetBytes(head).Concat(body).ToArray(), cancellationToken);
        client.Shutdown(SocketShutdown.Both);
    }

    private sealed record ProxyRequest(string Method, string Target, string Version, IReadOnlyList<(string Name, string Value)> Headers, byte[] Leftover)
    {
        public string? Header(string name) => Headers.FirstOrDefault(header => header.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

        public static ProxyRequest? Parse(string head, byte[] leftover)
        {
            var lines = head.Split("\r\n");
            var parts = lines[0].Split(' ');
            if (parts.Length != 3 || parts[0].Length == 0 || !parts[0].All(char.IsAsciiLetterUpper) || parts[2] is not ("HTTP/1.1" or "HTTP/1.0"))
            {
                return null;
            }

            var headers = new List<(string, string)>();
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':');
                if (colon <= 0 || line.Any(c => c is '\r' or '\n' or '\0'))
                {
                    return null;
                }

                headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }

            return new ProxyRequest(parts[0], parts[1], parts[2], headers, leftover);
        }
    }
}
