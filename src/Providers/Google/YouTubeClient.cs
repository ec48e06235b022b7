using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Google;

/// <summary>What a video is published with (videos.insert's snippet and status).</summary>
public sealed record VideoMetadata(string Title, string? Description, IReadOnlyList<string> Tags, string Privacy, bool MadeForKids, string? CategoryId);

/// <summary>Where a resumable upload stands: the bytes the server confirmed, or the video it created.</summary>
public sealed record UploadState(long Offset, string? VideoId)
{
    public bool Completed => VideoId is not null;
}

/// <summary>
/// The YouTube Data API calls MediaActors makes, over HttpClient: a resumable videos.insert (session, chunks of a multiple
/// of 256 KiB answered 308 with the confirmed Range, resumed from what the server confirms after any interruption, never
/// from zero) and videos.list to check an earlier upload still exists. Retries across failures belong to the job; this
/// class only resumes within one call after dropped connections.
/// </summary>
public sealed class YouTubeClient(HttpClient http, IOptions<GoogleOptions> options)
{
    private readonly GoogleOptions _options = options.Value;

    /// <summary>Starts an upload session for <paramref name="length"/> bytes; returns the session URI every chunk goes to.</summary>
    public async Task<Uri> StartUploadAsync(string accessToken, VideoMetadata metadata, long length, string contentType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var body = new InsertBody(
            new Snippet(metadata.Title, metadata.Description ?? "", metadata.Tags, metadata.CategoryId ?? "22"),
            new Status(metadata.Privacy, metadata.MadeForKids));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_options.YouTubeUploadApi, "videos?uploadType=resumable&part=snippet,status"))
        {
            Content = JsonContent.Create(body, options: Json),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Add("X-Upload-Content-Length", length.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-Upload-Content-Type", contentType);
        using var response = await SendAsync(request, "upload start", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await GoogleApiFailure.FromResponseAsync(response, "upload start", cancellationToken);
        }

        return response.Headers.Location is { } location
            ? location.IsAbsoluteUri ? location : new Uri(_options.YouTubeUploadApi, location)
            : throw new GoogleApiException(GoogleFailureKind.Transient, (int)response.StatusCode, null, "Google upload start failed: no session URI in the answer.");
    }

    /// <summary>Asks the session what it has (after an interruption, or before resuming an upload another silo began).</summary>
    public async Task<UploadState> QueryUploadAsync(string accessToken, Uri session, long length, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ByteArrayContent([]) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Content.Headers.ContentRange = new ContentRangeHeaderValue(length);
        using var response = await SendAsync(request, "upload status", cancellationToken);
        return await StateOfAsync(response, "upload status", cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="source"/> (seekable, <paramref name="length"/> bytes) from <paramref name="offset"/>, the offset
    /// the server confirmed, in chunks; after a dropped connection it asks the session where it stands and goes on from
    /// there. Reports each confirmed offset. Returns when the video exists, or throws <see cref="GoogleApiException"/>.
    /// </summary>
    public async Task<UploadState> UploadAsync(string accessToken, Uri session, Stream source, long length, long offset, string contentType,
        IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var chunk = _options.EffectiveUploadChunkBytes;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(chunk, Math.Max(1, length)));
        var interruptions = 0;
        try
        {
            while (true)
            {
                var count = (int)Math.Min(chunk, length - offset);
                source.Seek(offset, SeekOrigin.Begin);
                await source.ReadExactlyAsync(buffer.AsMemory(0, count), cancellationToken);
                using var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ByteArrayContent(buffer, 0, count) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
                request.Content.Headers.ContentRange = new ContentRangeHeaderValue(offset, offset + count - 1, length);
                UploadState state;
                try
                {
                    using var response = await SendAsync(request, "upload", cancellationToken);
                    state = await StateOfAsync(response, "upload", cancellationToken);
                }
                catch (GoogleApiException ex) when (ex.Status == 0 && !cancellationToken.IsCancellationRequested)
                {
                    // The connection dropped mid-chunk: the server kept some of it, or none. Ask, and go on from there.
                    if (++interruptions > _options.MaxInterruptionsInARow)
                    {
                        throw;
                    }

                    state = await QueryUploadAsync(accessToken, session, length, cancellationToken);
                }

                if (state.Completed)
                {
                    progress?.Report(length);
                    return state;
                }

                if (state.Offset > offset)
                {
                    interruptions = 0;
                }

                offset = state.Offset;
                progress?.Report(offset);
                if (offset >= length)
                {
                    // Every byte confirmed but no video yet: the final answer was lost; the status query returns it.
                    var final = await QueryUploadAsync(accessToken, session, length, cancellationToken);
                    if (final.Completed)
                    {
                        return final;
                    }

                    throw new GoogleApiException(GoogleFailureKind.Transient, 0, null, "Google upload failed: all bytes confirmed but no video returned.");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whether the video still exists on YouTube (not deleted, rejected or failed).</summary>
    public async Task<bool> VideoExistsAsync(string accessToken, string videoId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_options.YouTubeApi, $"videos?part=id,status&id={Uri.EscapeDataString(videoId)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await SendAsync(request, "videos.list", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await GoogleApiFailure.FromResponseAsync(response, "videos.list", cancellationToken);
        }

        var list = await response.Content.ReadFromJsonAsync<VideoList>(Json, cancellationToken);
        return list?.Items?.Any(v => v.Id == videoId && v.Status?.UploadStatus is not ("deleted" or "rejected" or "failed")) ?? false;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string operation, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, _options.TimeoutSeconds)));
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException or OperationCanceledException)
        {
            throw GoogleApiFailure.Unreachable(ex, operation);
        }
    }

    /// <summary>308 with Range "bytes=0-N" (N+1 confirmed; no Range: nothing yet), or 200/201 with the video.</summary>
    private static async Task<UploadState> StateOfAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.PermanentRedirect)
        {
            var offset = 0L;
            if (response.Headers.TryGetValues("Range", out var ranges) && ranges.FirstOrDefault() is { } range)
            {
                var dash = range.LastIndexOf('-');
                if (dash < 0 || !long.TryParse(range.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var last))
                {
                    throw new GoogleApiException(GoogleFailureKind.Transient, 308, null, $"Google {operation} failed: unreadable Range header.");
                }

                offset = last + 1;
            }

            return new UploadState(offset, null);
        }

        if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created)
        {
            try
            {
                var video = await response.Content.ReadFromJsonAsync<Video>(Json, cancellationToken);
                if (video?.Id is { Length: > 0 } id)
                {
                    return new UploadState(long.MaxValue, id);
                }
            }
            catch (Exception ex) when (ex is JsonException or HttpRequestException or IOException)
            {
                throw GoogleApiFailure.Unreachable(ex, operation);
            }

            throw new GoogleApiException(GoogleFailureKind.Transient, (int)response.StatusCode, null, $"Google {operation} failed: the answer names no video.");
        }

        throw await GoogleApiFailure.FromResponseAsync(response, operation, cancellationToken);
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private sealed record InsertBody(Snippet Snippet, Status Status);

    private sealed record Snippet(string Title, string Description, IReadOnlyList<string> Tags, string CategoryId);

    private sealed record Status(string PrivacyStatus, bool SelfDeclaredMadeForKids);

    private sealed record VideoList(IReadOnlyList<Video>? Items);

    private sealed record Video(string? Id, VideoStatus? Status);

    private sealed record VideoStatus(string? UploadStatus, string? PrivacyStatus);
}
