using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace MediaActors.Providers.Tests.Fakes;

/// <summary>
/// A local server that plays the parts of Google's APIs MediaActors uses, by their real protocol: YouTube resumable
/// uploads (session start, chunks answered 308 with the confirmed Range, status queries, 201 with the video),
/// videos.list, Drive files.get (metadata and alt=media with Range, 206) and files.list of a folder. Failures can be
/// injected: a connection dropped after some bytes of a chunk or a download, and Google-shaped error answers.
/// </summary>
public sealed partial class FakeGoogleServer : IAsyncDisposable
{
    private const int PersistUnit = 256 * 1024;
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Session> _sessions = new();
    private readonly ConcurrentQueue<Injected> _failures = new();
    private readonly List<string> _log = [];
    private int _ids;

    private FakeGoogleServer(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The largest upload chunk this server takes.</summary>
    public const int MaxChunk = 64 * 1024 * 1024;

    /// <summary>Whether videos keep their bytes (<see cref="FakeVideo.Content"/>); when false only their MD5 and size (for multi-GiB uploads).</summary>
    public bool KeepUploads { get; set; } = true;

    /// <summary>Access tokens the APIs accept.</summary>
    public ConcurrentDictionary<string, bool> AccessTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Videos on "YouTube" by id.</summary>
    public ConcurrentDictionary<string, FakeVideo> Videos { get; } = new();

    /// <summary>Drive files by id.</summary>
    public ConcurrentDictionary<string, FakeDriveFile> DriveFiles { get; } = new();

    /// <summary>Bytes the upload sessions accepted, summed over all chunks (each byte of a file exactly once if no chunk overlapped).</summary>
    public long UploadBytesAccepted => Interlocked.Read(ref _uploadBytesAccepted);

    private long _uploadBytesAccepted;

    /// <summary>Chunks that did not continue their session where it stood (a client re-sending or skipping bytes).</summary>
    public int MisplacedChunks => _misplacedChunks;

    private int _misplacedChunks;

    /// <summary>Every request as "METHOD path?query", in order.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_log)
            {
                return _log.ToList();
            }
        }
    }

    public const string ClientId = "fake-client-1234.apps.googleusercontent.com";

    public const string ClientSecret = "fake-client-secret-5b7e";

    /// <summary>Refresh tokens issued and not revoked.</summary>
    public ConcurrentDictionary<string, bool> RefreshTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>How long issued access tokens live (Google: about an hour).</summary>
    public int AccessTokenSeconds { get; set; } = 3599;

    /// <summary>The consent requests received, as their query parameters.</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> ConsentRequests { get; } = new();

    private readonly ConcurrentDictionary<string, (string Challenge, string RedirectUri, string Scope)> _codes = new(StringComparer.Ordinal);

    /// <summary>The options pointing MediaActors' Google clients here.</summary>
    public IReadOnlyDictionary<string, string?> ConfigurationValues => new Dictionary<string, string?>
    {
        ["Google:ClientId"] = ClientId,
        ["Google:ClientSecret"] = ClientSecret,
        ["Google:AuthorizationEndpoint"] = new Uri(BaseAddress, "o/oauth2/v2/auth").ToString(),
        ["Google:TokenEndpoint"] = new Uri(BaseAddress, "token").ToString(),
        ["Google:RevokeEndpoint"] = new Uri(BaseAddress, "revoke").ToString(),
        ["Google:YouTubeApi"] = new Uri(BaseAddress, "youtube/v3/").ToString(),
        ["Google:YouTubeUploadApi"] = new Uri(BaseAddress, "upload/youtube/v3/").ToString(),
        ["Google:DriveApi"] = new Uri(BaseAddress, "drive/v3/").ToString(),
    };

    public static async Task<FakeGoogleServer> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var server = new FakeGoogleServer(app);
        app.Urls.Add("http://127.0.0.1:0");
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The next request to <paramref name="operation"/> ("upload", "upload-start", "videos.list", "files.get", "download", "files.list") answers this error.</summary>
    public void FailNext(string operation, int status, string? reason = null, string message = "Injected failure.") =>
        _failures.Enqueue(new Injected(operation, status, reason, message, null));

    /// <summary>The next request to <paramref name="operation"/> ("upload" or "download") drops its connection after <paramref name="bytes"/> bytes of its body.</summary>
    public void DropNext(string operation, long bytes) => _failures.Enqueue(new Injected(operation, 0, null, "", bytes));

    /// <summary>
    /// From now on, requests to <paramref name="operation"/> ("upload" chunks, Drive "download"s) that start at byte
    /// <paramref name="fromByte"/> or later wait until <see cref="Release"/>.
    /// </summary>
    public void Hold(string operation = "upload", long fromByte = 0) =>
        _gates[operation] = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), fromByte);

    public void Release(string operation = "upload")
    {
        if (_gates.TryRemove(operation, out var gate))
        {
            gate.Gate.TrySetResult();
        }
    }

    /// <summary>Requests waiting at the gates of <see cref="Hold"/>.</summary>
    public int Held => Volatile.Read(ref _held);

    private readonly ConcurrentDictionary<string, (TaskCompletionSource Gate, long FromByte)> _gates = new(StringComparer.Ordinal);
    private int _held;

    /// <summary>Waits while <paramref name="operation"/> is held; false if the client went away meanwhile.</summary>
    private async Task<bool> PassGateAsync(string operation, long start, HttpContext context)
    {
        if (!_gates.TryGetValue(operation, out var gate) || start < gate.FromByte)
        {
            return true;
        }

        Interlocked.Increment(ref _held);
        try
        {
            await gate.Gate.Task.WaitAsync(context.RequestAborted);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _held);
        }
    }

    /// <summary>Bytes the session <paramref name="sessionUri"/> holds so far (what a status query would confirm).</summary>
    public long SessionBytes(Uri sessionUri)
    {
        var id = System.Web.HttpUtility.ParseQueryString(sessionUri.Query)["upload_id"] ?? "";
        if (!_sessions.TryGetValue(id, out var session))
        {
            return -1;
        }

        lock (session)
        {
            return session.Length;
        }
    }

    public FakeDriveFile AddDriveFile(string name, byte[] content, string mimeType = "video/mp4", string folder = "root")
    {
        var file = new FakeDriveFile($"drive{Interlocked.Increment(ref _ids)}", name, mimeType, content, Convert.ToHexStringLower(MD5.HashData(content)), folder);
        DriveFiles[file.Id] = file;
        return file;
    }

    private Injected? Take(string operation)
    {
        if (_failures.TryPeek(out var next) && next.Operation == operation && _failures.TryDequeue(out next))
        {
            return next;
        }

        return null;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        lock (_log)
        {
            _log.Add($"{request.Method} {request.Path}{request.QueryString}");
        }

        var oauthPath = request.Path.Value ?? "";
        if (oauthPath is "/o/oauth2/v2/auth" or "/token" or "/revoke")
        {
            await OAuthAsync(context, oauthPath);
            return;
        }

        var auth = request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !AccessTokens.ContainsKey(auth["Bearer ".Length..]))
        {
            await ErrorAsync(context, 401, "authError", "Invalid Credentials");
            return;
        }

        var path = request.Path.Value ?? "";
        switch (request.Method)
        {
            case "POST" when path == "/upload/youtube/v3/videos" && request.Query["uploadType"] == "resumable":
                await StartUploadAsync(context);
                break;
            case "PUT" when path == "/upload/youtube/v3/videos" && _sessions.TryGetValue(request.Query["upload_id"].ToString(), out var session):
                await ChunkAsync(context, session);
                break;
            case "PUT" when path == "/upload/youtube/v3/videos":
                await ErrorAsync(context, 404, "notFound", "Upload session not found.");
                break;
            case "GET" when path == "/youtube/v3/videos":
                await ListVideosAsync(context);
                break;
            case "GET" when path == "/drive/v3/files":
                await ListFilesAsync(context);
                break;
            case "GET" when path.StartsWith("/drive/v3/files/", StringComparison.Ordinal):
                await DriveFileAsync(context, Uri.UnescapeDataString(path["/drive/v3/files/".Length..]));
                break;
            default:
                await ErrorAsync(context, 404, "notFound", $"No such endpoint: {request.Method} {path}");
                break;
        }
    }

    /// <summary>Consent (a user who always agrees: 302 back with a code), the token endpoint (code with PKCE, refresh) and revocation.</summary>
    private async Task OAuthAsync(HttpContext context, string path)
    {
        var request = context.Request;
        if (path == "/o/oauth2/v2/auth")
        {
            var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
            ConsentRequests.Enqueue(query);
            if (query.GetValueOrDefault("client_id") != ClientId || query.GetValueOrDefault("response_type") != "code"
                || query.GetValueOrDefault("code_challenge_method") != "S256" || string.IsNullOrEmpty(query.GetValueOrDefault("code_challenge")))
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync("Error 400: invalid_request");
                return;
            }

            var code = $"4/code-{Interlocked.Increment(ref _ids)}";
            _codes[code] = (query["code_challenge"], query.GetValueOrDefault("redirect_uri") ?? "", query.GetValueOrDefault("scope") ?? "");
            var redirect = $"{query.GetValueOrDefault("redirect_uri")}?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(query.GetValueOrDefault("state") ?? "")}";
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = redirect;
            return;
        }

        var form = request.HasFormContentType ? await request.ReadFormAsync() : null;
        string Field(string name) => form?[name].ToString() is { Length: > 0 } v ? v : request.Query[name].ToString();
        if (path == "/revoke")
        {
            var token = Field("token");
            var known = RefreshTokens.TryRemove(token, out _) | AccessTokens.TryRemove(token, out _);
            context.Response.StatusCode = known ? 200 : 400;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(known ? "{}" : """{"error":"invalid_token","error_description":"Token expired or revoked"}""");
            return;
        }

        if (Take("token") is { } failure)
        {
            context.Response.StatusCode = failure.Status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = failure.Reason ?? "internal_failure", error_description = failure.Message }));
            return;
        }

        if (Field("client_id") != ClientId || Field("client_secret") != ClientSecret)
        {
            await TokenErrorAsync(context, 401, "invalid_client", "Unauthorized");
            return;
        }

        string scope;
        string? refresh = null;
        switch (Field("grant_type"))
        {
            case "authorization_code":
                if (!_codes.TryRemove(Field("code"), out var issued) || issued.RedirectUri != Field("redirect_uri"))
                {
                    await TokenErrorAsync(context, 400, "invalid_grant", "Bad Request");
                    return;
                }

                var verifier = Field("code_verifier");
                if (verifier.Length == 0)
                {
                    await TokenErrorAsync(context, 400, "invalid_grant", "Missing code verifier.");
                    return;
                }

                if (System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(verifier))) != issued.Challenge)
                {
                    await TokenErrorAsync(context, 400, "invalid_grant", "Invalid code verifier.");
                    return;
                }

                scope = issued.Scope;
                refresh = $"1//refresh-{Interlocked.Increment(ref _ids)}";
                RefreshTokens[refresh] = true;
                break;
            case "refresh_token":
                if (!RefreshTokens.ContainsKey(Field("refresh_token")))
                {
                    await TokenErrorAsync(context, 400, "invalid_grant", "Token has been expired or revoked.");
                    return;
                }

                scope = "https://www.googleapis.com/auth/youtube.upload";
                break;
            default:
                await TokenErrorAsync(context, 400, "unsupported_grant_type", "Invalid grant_type.");
                return;
        }

        var access = $"ya29.access-{Interlocked.Increment(ref _ids)}";
        AccessTokens[access] = true;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["access_token"] = access,
            ["expires_in"] = AccessTokenSeconds,
            ["refresh_token"] = refresh,
            ["scope"] = scope,
            ["token_type"] = "Bearer",
        }.Where(p => p.Value is not null).ToDictionary()));
    }

    private static async Task TokenErrorAsync(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { error, error_description = description }));
    }

    private async Task StartUploadAsync(HttpContext context)
    {
        if (Take("upload-start") is { } failure)
        {
            await ErrorAsync(context, failure.Status, failure.Reason, failure.Message);
            return;
        }

        var request = context.Request;
        if (!long.TryParse(request.Headers["X-Upload-Content-Length"], NumberStyles.None, CultureInfo.InvariantCulture, out var total) || total <= 0)
        {
            await ErrorAsync(context, 400, "badContent", "X-Upload-Content-Length is missing.");
            return;
        }

        using var body = await JsonDocument.ParseAsync(request.Body);
        var snippet = body.RootElement.GetProperty("snippet");
        var title = snippet.GetProperty("title").GetString() ?? "";
        if (title.Length is 0 or > 100 || title.Contains('<', StringComparison.Ordinal) || title.Contains('>', StringComparison.Ordinal))
        {
            await ErrorAsync(context, 400, "invalidTitle", "The request metadata specifies an invalid or empty video title.");
            return;
        }

        var id = $"session{Interlocked.Increment(ref _ids)}";
        _sessions[id] = new Session(id, total, request.Headers["X-Upload-Content-Type"].ToString(), body.RootElement.Clone(), KeepUploads);
        context.Response.StatusCode = 200;
        context.Response.Headers.Location = new Uri(BaseAddress, $"upload/youtube/v3/videos?uploadType=resumable&upload_id={id}").ToString();
    }

    private async Task ChunkAsync(HttpContext context, Session session)
    {
        var range = context.Request.Headers.ContentRange.ToString();
        var query = QueryRange().Match(range);
        var chunk = ChunkRange().Match(range);
        if (query.Success)
        {
            await AnswerStateAsync(context, session);
            return;
        }

        if (!chunk.Success)
        {
            await ErrorAsync(context, 400, "badRange", $"Unreadable Content-Range '{range}'.");
            return;
        }

        if (!await PassGateAsync("upload", long.Parse(chunk.Groups[1].Value, CultureInfo.InvariantCulture), context))
        {
            return;
        }

        var failure = Take("upload");
        if (failure is { DropAfter: null })
        {
            await ErrorAsync(context, failure.Status, failure.Reason, failure.Message);
            return;
        }

        if (failure?.DropAfter is { } dropAfter)
        {
            // Read part of the chunk, keep what a real server would have persisted (whole 256 KiB units), and hang up.
            var partial = new byte[dropAfter];
            await context.Request.Body.ReadAtLeastAsync(partial, partial.Length, throwOnEndOfStream: false);
            var first = long.Parse(chunk.Groups[1].Value, CultureInfo.InvariantCulture);
            lock (session)
            {
                if (first == session.Length)
                {
                    var keep = dropAfter / PersistUnit * PersistUnit;
                    session.Append(partial, (int)keep);
                    Interlocked.Add(ref _uploadBytesAccepted, keep);
                }
            }

            context.Abort();
            return;
        }

        var start = long.Parse(chunk.Groups[1].Value, CultureInfo.InvariantCulture);
        var end = long.Parse(chunk.Groups[2].Value, CultureInfo.InvariantCulture);
        if (end - start + 1 is <= 0 or > MaxChunk)
        {
            await ErrorAsync(context, 400, "badRange", "The chunk is empty or larger than this server takes.");
            return;
        }

        // A pooled buffer: the server's own memory stays flat too, so a test can measure the client's.
        var expected = (int)(end - start + 1);
        var buffer = ArrayPool<byte>.Shared.Rent(expected);
        var misplaced = false;
        try
        {
            var read = await context.Request.Body.ReadAtLeastAsync(buffer.AsMemory(0, expected), expected, throwOnEndOfStream: false);
            var extra = read == expected ? await context.Request.Body.ReadAsync(new byte[1]) : 0;
            lock (session)
            {
                if (start != session.Length || read != expected || extra != 0 || session.VideoId is not null)
                {
                    misplaced = true;
                    Interlocked.Increment(ref _misplacedChunks);
                }
                else
                {
                    session.Append(buffer, read);
                    Interlocked.Add(ref _uploadBytesAccepted, read);
                    if (session.Length == session.Total)
                    {
                        var video = new FakeVideo($"vid{Interlocked.Increment(ref _ids)}", session.Metadata, session.Content(), session.ContentType, session.Md5(), session.Length);
                        Videos[video.Id] = video;
                        session.VideoId = video.Id;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (misplaced && session.VideoId is null)
        {
            await ErrorAsync(context, 400, "badRange", "The chunk does not continue the upload.");
            return;
        }

        await AnswerStateAsync(context, session);
    }

    private static async Task AnswerStateAsync(HttpContext context, Session session)
    {
        if (session.VideoId is { } videoId)
        {
            context.Response.StatusCode = 201;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { kind = "youtube#video", id = videoId, status = new { uploadStatus = "uploaded" } }));
            return;
        }

        context.Response.StatusCode = 308;
        long length;
        lock (session)
        {
            length = session.Length;
        }

        if (length > 0)
        {
            context.Response.Headers["Range"] = $"bytes=0-{length - 1}";
        }
    }

    private async Task ListVideosAsync(HttpContext context)
    {
        if (Take("videos.list") is { } failure)
        {
            await ErrorAsync(context, failure.Status, failure.Reason, failure.Message);
            return;
        }

        var ids = context.Request.Query["id"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries);
        var items = ids.Where(id => Videos.TryGetValue(id, out var v) && !v.Deleted)
            .Select(id => new { kind = "youtube#video", id, status = new { uploadStatus = "processed", privacyStatus = "private" } }).ToList();
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { kind = "youtube#videoListResponse", items }));
    }

    private async Task ListFilesAsync(HttpContext context)
    {
        if (Take("files.list") is { } failure)
        {
            await ErrorAsync(context, failure.Status, failure.Reason, failure.Message);
            return;
        }

        var q = context.Request.Query["q"].ToString();
        var folder = FolderQuery().Match(q) is { Success: true } m ? m.Groups[1].Value : null;
        var pageSize = int.TryParse(context.Request.Query["pageSize"], out var size) ? size : 100;
        var skip = int.TryParse(context.Request.Query["pageToken"], out var token) ? token : 0;
        var all = DriveFiles.Values.Where(f => f.Folder == folder && f.MimeType.StartsWith("video/", StringComparison.Ordinal) && !f.Trashed)
            .OrderBy(f => f.Id, StringComparer.Ordinal).ToList();
        var page = all.Skip(skip).Take(pageSize).Select(Metadata).ToList();
        var next = skip + pageSize < all.Count ? (skip + pageSize).ToString(CultureInfo.InvariantCulture) : null;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { nextPageToken = next, files = page }));
    }

    private async Task DriveFileAsync(HttpContext context, string id)
    {
        var media = context.Request.Query["alt"] == "media";
        var rangeStart = RangeHeader().Match(context.Request.Headers.Range.ToString()) is { Success: true } r ? long.Parse(r.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        if (media && !await PassGateAsync("download", rangeStart, context))
        {
            return;
        }

        var failure = Take(media ? "download" : "files.get");
        if (failure is { DropAfter: null })
        {
            await ErrorAsync(context, failure.Status, failure.Reason, failure.Message);
            return;
        }

        if (!DriveFiles.TryGetValue(id, out var file))
        {
            await ErrorAsync(context, 404, "notFound", $"File not found: {id}.", "global");
            return;
        }

        if (!media)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(Metadata(file)));
            return;
        }

        if (failure?.DropAfter is { } dropAfter)
        {
            var (from, _) = Range(context, file);
            context.Response.StatusCode = 206;
            await context.Response.Body.WriteAsync(file.Content.AsMemory((int)from, (int)Math.Min(dropAfter, file.Content.Length - from)));
            await context.Response.Body.FlushAsync();
            context.Abort();
            return;
        }

        var (start, end) = Range(context, file);
        context.Response.StatusCode = context.Request.Headers.Range.Count > 0 ? 206 : 200;
        if (context.Response.StatusCode == 206)
        {
            context.Response.Headers.ContentRange = $"bytes {start}-{end}/{file.Content.Length}";
        }

        context.Response.ContentLength = end - start + 1;
        context.Response.ContentType = file.MimeType;
        await context.Response.Body.WriteAsync(file.Content.AsMemory((int)start, (int)(end - start + 1)));
    }

    private static (long Start, long End) Range(HttpContext context, FakeDriveFile file)
    {
        var match = RangeHeader().Match(context.Request.Headers.Range.ToString());
        if (!match.Success)
        {
            return (0, file.Content.Length - 1);
        }

        var start = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var end = match.Groups[2].Success ? Math.Min(long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), file.Content.Length - 1) : file.Content.Length - 1;
        return (start, end);
    }

    private static object Metadata(FakeDriveFile f) => new
    {
        id = f.Id,
        name = f.Name,
        mimeType = f.MimeType,
        size = f.Content.Length.ToString(CultureInfo.InvariantCulture),
        md5Checksum = f.Md5,
        modifiedTime = "2026-12-01T10:00:00.000Z",
    };

    private static async Task ErrorAsync(HttpContext context, int status, string? reason, string message, string domain = "youtube.api")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            error = new { code = status, message, errors = new[] { new { domain, reason = reason ?? "backendError", message } } },
        }));
    }

    [GeneratedRegex(@"^bytes \*/(\d+)$")]
    private static partial Regex QueryRange();

    [GeneratedRegex(@"^bytes (\d+)-(\d+)/(\d+)$")]
    private static partial Regex ChunkRange();

    [GeneratedRegex(@"^bytes=(\d+)-(\d*)$")]
    private static partial Regex RangeHeader();

    [GeneratedRegex(@"'([^']+)' in parents")]
    private static partial Regex FolderQuery();

    private sealed record Injected(string Operation, int Status, string? Reason, string Message, long? DropAfter);

    /// <summary>An upload session: the bytes so far (kept, or only counted and hashed) and the video once complete.</summary>
    private sealed class Session(string id, long total, string contentType, JsonElement metadata, bool keep)
    {
        private readonly MemoryStream? _data = keep ? new MemoryStream() : null;
        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);

        public string Id { get; } = id;

        public long Total { get; } = total;

        public string ContentType { get; } = contentType;

        public JsonElement Metadata { get; } = metadata;

        public long Length { get; private set; }

        public string? VideoId { get; set; }

        public void Append(byte[] bytes, int count)
        {
            _data?.Write(bytes, 0, count);
            _md5.AppendData(bytes, 0, count);
            Length += count;
        }

        public byte[] Content() => _data?.ToArray() ?? [];

        public string Md5() => Convert.ToHexStringLower(_md5.GetCurrentHash());
    }
}

/// <summary>A video the fake YouTube holds: its metadata as sent, its bytes (unless the server does not keep them), their MD5 and size.</summary>
public sealed class FakeVideo(string id, JsonElement metadata, byte[] content, string contentType, string md5, long size)
{
    public string Md5 { get; } = md5;

    public long Size { get; } = size;

    public string Id { get; } = id;

    public JsonElement Metadata { get; } = metadata;

    public byte[] Content { get; } = content;

    public string ContentType { get; } = contentType;

    public bool Deleted { get; set; }
}

/// <summary>A file on the fake Drive.</summary>
public sealed record FakeDriveFile(string Id, string Name, string MimeType, byte[] Content, string Md5, string Folder)
{
    public bool Trashed { get; set; }
}
