using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MediaActors.Api.Tests.Hardening;

/// <summary>How the body of a <see cref="FuzzRequest"/> is framed on the wire.</summary>
public enum BodyFraming
{
    /// <summary>Content-Length: the body's length (or <see cref="FuzzRequest.DeclaredLength"/> when set).</summary>
    ContentLength,

    /// <summary>Transfer-Encoding: chunked, the body sent as well-formed chunks.</summary>
    Chunked,

    /// <summary>The body bytes are written as they are after the headers, with no framing header of ours (the generator set its own).</summary>
    Raw,
}

/// <summary>
/// One generated request, exactly as it goes on the wire. The fuzz test writes requests itself over a socket instead
/// of using HttpClient, because HttpClient (through System.Uri) normalises the very things a fuzzer wants to send:
/// it removes dot segments, re-escapes invalid percent escapes, refuses non-ASCII header values and odd methods.
/// </summary>
public sealed class FuzzRequest
{
    /// <summary>What is malformed about it (for the report).</summary>
    public string Fault { get; set; } = "";

    /// <summary>The route it was aimed at, e.g. "POST /api/projects" (for the report).</summary>
    public string Route { get; set; } = "";

    public string Method { get; set; } = "GET";

    /// <summary>The request target as sent (already percent-encoded, or deliberately not); written as UTF-8.</summary>
    public string Target { get; set; } = "/";

    /// <summary>Replaces the whole request line ("OPTIONS * HTTP/1.1").</summary>
    public string? RequestLine { get; set; }

    public List<KeyValuePair<string, string>> Headers { get; } = [];

    public byte[]? Body { get; set; }

    public BodyFraming Framing { get; set; } = BodyFraming.ContentLength;

    /// <summary>A Content-Length that differs from the body's length (only ever shorter: a longer one would make the server wait).</summary>
    public long? DeclaredLength { get; set; }

    public bool OmitHost { get; set; }

    /// <summary>The response streams (server-sent events): read its status and headers, then hang up.</summary>
    public bool HeadersOnly { get; set; }

    /// <summary>Deliberately broken HTTP framing: the server may answer 400 or just close the connection.</summary>
    public bool MayCloseWithoutResponse { get; set; }

    /// <summary>A short description of the auth the request carries (for the report; never the key itself).</summary>
    public string AuthLabel { get; set; } = "";

    public void Header(string name, string value) => Headers.Add(new(name, value));

    public string? ContentType =>
        Headers.Where(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public byte[] ToBytes(string host)
    {
        var head = new StringBuilder();
        head.Append(RequestLine ?? $"{Method} {Target} HTTP/1.1").Append("\r\n");
        if (!OmitHost)
        {
            head.Append("Host: ").Append(host).Append("\r\n");
        }

        foreach (var (name, value) in Headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        byte[] body = [];
        if (Body is not null)
        {
            switch (Framing)
            {
                case BodyFraming.ContentLength:
                    head.Append("Content-Length: ").Append((DeclaredLength ?? Body.Length).ToString(CultureInfo.InvariantCulture)).Append("\r\n");
                    body = Body;
                    break;
                case BodyFraming.Chunked:
                    head.Append("Transfer-Encoding: chunked\r\n");
                    body = Chunk(Body);
                    break;
                default:
                    body = Body;
                    break;
            }
        }

        if (!Headers.Any(h => h.Key.Equals("Connection", StringComparison.OrdinalIgnoreCase)))
        {
            head.Append("Connection: close\r\n");
        }

        head.Append("\r\n");
        var headBytes = Encoding.UTF8.GetBytes(head.ToString());
        var all = new byte[headBytes.Length + body.Length];
        headBytes.CopyTo(all, 0);
        body.CopyTo(all, headBytes.Length);
        return all;
    }

    private static byte[] Chunk(byte[] body)
    {
        using var chunked = new MemoryStream();
        for (var offset = 0; offset < body.Length; offset += 8192)
        {
            var length = Math.Min(8192, body.Length - offset);
            chunked.Write(Encoding.ASCII.GetBytes($"{length:x}\r\n"));
            chunked.Write(body, offset, length);
            chunked.Write("\r\n"u8);
        }

        chunked.Write("0\r\n\r\n"u8);
        return chunked.ToArray();
    }
}

/// <summary>What came back: a status (or none), some headers and the start of the body, or what went wrong.</summary>
public sealed record RawResponse(int Status, string Head, string Body, string? Error, TimeSpan Elapsed)
{
    public bool HasStatus => Status > 0;
}

/// <summary>A minimal HTTP/1.1 client over a socket: one request per connection ("Connection: close").</summary>
public static class RawHttp
{
    private const int KeepBodyChars = 4000;

    public static async Task<RawResponse> SendAsync(IPEndPoint server, FuzzRequest request, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        using var cancel = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, cancel.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return new RawResponse(0, "", "", $"connect failed: {ex.Message}", watch.Elapsed);
        }

        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var bytes = request.ToBytes($"{server.Address}:{server.Port}");

        // Written concurrently with the reading: a server may answer (401, 413, 400) before it has read a large body.
        var writing = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(bytes, cancel.Token);
                await stream.FlushAsync(cancel.Token);
                return null;
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                return ex.GetType().Name + ": " + ex.Message;
            }
        });

        var received = new MemoryStream();
        var buffer = new byte[16384];
        var headerEnd = -1;
        var status = 0;
        var head = "";
        long? contentLength = null;
        var chunked = false;
        var noBody = false;
        long total = 0;
        string? error = null;
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer, cancel.Token);
                if (read == 0)
                {
                    break;
                }

                total += read;
                if (received.Length < 256 * 1024)
                {
                    received.Write(buffer, 0, read);
                }

                if (headerEnd < 0)
                {
                    var data = received.GetBuffer().AsSpan(0, (int)received.Length);
                    var end = data.IndexOf("\r\n\r\n"u8);
                    if (end < 0)
                    {
                        continue;
                    }

                    head = Encoding.UTF8.GetString(data[..end]);
                    status = ParseStatus(head);
                    if (status is >= 100 and < 200)
                    {
                        // An interim answer (100 Continue): drop it and wait for the real one.
                        var rest = data[(end + 4)..].ToArray();
                        received.SetLength(0);
                        received.Write(rest);
                        total = rest.Length;
                        status = 0;
                        continue;
                    }

                    headerEnd = end + 4;
                    contentLength = HeaderValue(head, "Content-Length") is { } cl && long.TryParse(cl, out var length) ? length : null;
                    chunked = HeaderValue(head, "Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true;
                    noBody = request.Method == "HEAD" || status is 204 or 304;
                    if (request.HeadersOnly)
                    {
                        break;
                    }
                }

                if (noBody
                    || (contentLength is { } expected && total - headerEnd >= expected)
                    || (chunked && received.GetBuffer().AsSpan(0, (int)received.Length).EndsWith("0\r\n\r\n"u8)))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            error = status > 0 ? $"timed out after {timeout.TotalSeconds:0} s reading the body" : $"no answer within {timeout.TotalSeconds:0} s";
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            error = status > 0 ? null : $"{ex.GetType().Name}: {ex.Message}";
        }

        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        socket.Close();
        var writeError = await writing;
        if (status <= 0 && error is null)
        {
            error = "the server closed the connection without an answer" + (writeError is null ? "" : $" ({writeError})");
        }

        var bodyBytes = headerEnd >= 0 && received.Length > headerEnd ? received.GetBuffer()[headerEnd..(int)received.Length] : [];
        if (chunked)
        {
            bodyBytes = Dechunk(bodyBytes);
        }

        var body = Encoding.UTF8.GetString(bodyBytes, 0, Math.Min(bodyBytes.Length, KeepBodyChars));
        return new RawResponse(status, head, body, error, watch.Elapsed);
    }

    /// <summary>The data of a chunked body (as much of it as arrived).</summary>
    private static byte[] Dechunk(byte[] data)
    {
        var result = new MemoryStream();
        var position = 0;
        while (position < data.Length)
        {
            var lineEnd = data.AsSpan(position).IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                break;
            }

            var sizeText = Encoding.ASCII.GetString(data, position, lineEnd).Split(';')[0].Trim();
            if (!int.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size) || size <= 0)
            {
                break;
            }

            position += lineEnd + 2;
            var length = Math.Min(size, data.Length - position);
            result.Write(data, position, length);
            position += size + 2;
        }

        return result.ToArray();
    }

    private static int ParseStatus(string head)
    {
        // "HTTP/1.1 404 Not Found"
        var line = head.Split("\r\n")[0];
        var parts = line.Split(' ', 3);
        return parts.Length >= 2 && parts[0].StartsWith("HTTP/", StringComparison.Ordinal) && int.TryParse(parts[1], out var code) ? code : -1;
    }

    private static string? HeaderValue(string head, string name) =>
        head.Split("\r\n").Skip(1)
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            .Select(parts => parts[1].Trim())
            .FirstOrDefault();
}
