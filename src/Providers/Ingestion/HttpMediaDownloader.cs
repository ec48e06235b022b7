using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Ingestion;

/// <summary>What a GET of a link gave: a media file on disk, or a web page (or streaming manifest) for yt-dlp to read.</summary>
public sealed record HttpFetchResult(DownloadedMedia? Media, Uri? WebPageUrl);

/// <summary>
/// Streams a link through the guarded HttpClient into a file, enforcing the size limit while streaming
/// (Content-Length first, then counted bytes; the partial file is deleted when the limit is passed).
/// </summary>
public sealed class HttpMediaDownloader(GuardedHttpClientFactory clients, IOptions<IngestionOptions> options)
{
    private static readonly HashSet<string> _webPageTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "text/html", "application/xhtml+xml",
        // Streaming manifests are not media files by themselves; yt-dlp downloads what they list.
        "application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl", "application/dash+xml",
    };

    private readonly IngestionOptions _options = options.Value;

    /// <summary>
    /// GETs <paramref name="url"/> and streams the body to "media.ext" in <paramref name="targetDirectory"/>. When the answer is
    /// a web page and <paramref name="acceptWebPage"/> is true, nothing is written and the final URL (after redirects) is returned.
    /// </summary>
    public async Task<HttpFetchResult> DownloadAsync(Uri url, IEnumerable<KeyValuePair<string, string>>? headers, string targetDirectory, long maxBytes,
        bool acceptWebPage, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        LinkRules.Validate(url);
        using var overall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        overall.CancelAfter(_options.DownloadTimeout);
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(overall.Token);
        string? filePath = null;
        try
        {
            using var client = clients.CreateClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("User-Agent", string.IsNullOrWhiteSpace(_options.UserAgent) ? IngestionOptions.DefaultHttpUserAgent : _options.UserAgent);
            foreach (var (name, value) in headers ?? [])
            {
                if (!name.Equals("Host", StringComparison.OrdinalIgnoreCase) && !name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
                {
                    request.Headers.Remove(name);
                    request.Headers.TryAddWithoutValidation(name, value);
                }
            }

            stall.CancelAfter(_options.SocketTimeout);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stall.Token);
            var finalUrl = response.RequestMessage?.RequestUri ?? url;
            if (!response.IsSuccessStatusCode)
            {
                throw StatusError(response.StatusCode);
            }

            var contentType = response.Content.Headers.ContentType?.MediaType;
            if (contentType is not null && _webPageTypes.Contains(contentType))
            {
                return acceptWebPage
                    ? new HttpFetchResult(null, finalUrl)
                    : throw StepException.Permanent($"The link gave a web page or playlist ({contentType}), not a media file.");
            }

            var length = response.Content.Headers.ContentLength;
            if (length > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            Directory.CreateDirectory(targetDirectory);
            filePath = Path.Combine(targetDirectory, MediaFiles.BaseName + MediaFiles.ExtensionFor(contentType, finalUrl));
            var size = await CopyToFileAsync(response.Content, filePath, length, maxBytes, progress, stall, overall.Token);
            var title = TitleOf(response.Content.Headers.ContentDisposition, finalUrl);
            return new HttpFetchResult(new DownloadedMedia(filePath, size, title, contentType), null);
        }
        catch (Exception ex)
        {
            if (filePath is not null)
            {
                MediaFiles.TryDelete(filePath);
            }

            if (ex is StepException || cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw Classify(ex, url, overall.IsCancellationRequested);
        }
    }

    /// <summary>The permanent error for a file over the limit; the same words for every path.</summary>
    public static StepException TooLarge(long maxBytes)
    {
        const double mebibyte = 1024.0 * 1024;
        var readable = maxBytes switch
        {
            >= 1024L * 1024 * 1024 => $" ({maxBytes / (mebibyte * 1024):0.##} GiB)",
            >= 1024L * 1024 => $" ({maxBytes / mebibyte:0.##} MiB)",
            _ => "",
        };
        return StepException.Permanent($"The media at the link is larger than the limit of {maxBytes} bytes{readable}.");
    }

    /// <summary>How an HTTP status maps to a step error: 4xx are permanent except 408/425/429; 5xx are retryable.</summary>
    public static StepException StatusError(HttpStatusCode status)
    {
        var code = (int)status;
        return code switch
        {
            404 or 410 => StepException.Permanent($"Nothing was found at the link (HTTP {code})."),
            401 or 403 or 451 => StepException.Permanent($"The server refused access to the link (HTTP {code})."),
            408 or 425 or 429 => StepException.Retryable($"The server asked to try again later (HTTP {code})."),
            >= 500 => StepException.Retryable($"The server failed to answer (HTTP {code})."),
            _ => StepException.Permanent($"The server did not deliver the media (HTTP {code})."),
        };
    }

    private async Task<long> CopyToFileAsync(HttpContent content, string filePath, long? length, long maxBytes, IProgress<double>? progress,
        CancellationTokenSource stall, CancellationToken overall)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            await using var body = await content.ReadAsStreamAsync(stall.Token);
            await using var file = new FileStream(filePath, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            long total = 0;
            var reported = -1.0;
            while (true)
            {
                stall.CancelAfter(_options.SocketTimeout);
                var read = await body.ReadAsync(buffer, stall.Token);
                if (read == 0)
                {
                    break;
                }

                total += read;
                if (total > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }

                await file.WriteAsync(buffer.AsMemory(0, read), overall);
                if (length > 0 && progress is not null)
                {
                    var fraction = Math.Min(1.0, (double)total / length.Value);
                    if (fraction - reported >= 0.01)
                    {
                        reported = fraction;
                        progress.Report(fraction);
                    }
                }
            }

            await file.FlushAsync(overall);
            progress?.Report(1.0);
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private StepException Classify(Exception ex, Uri url, bool timedOut)
    {
        var origin = LinkRules.Origin(url);
        return ex switch
        {
            OperationCanceledException when timedOut => StepException.Retryable($"The download from {origin} did not finish within {_options.DownloadTimeout}.", ex),
            OperationCanceledException => StepException.Retryable($"{origin} sent nothing for {_options.SocketTimeout.TotalSeconds:0} seconds.", ex),
            HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } or AuthenticationException =>
                StepException.Permanent($"A secure connection to {origin} could not be made (TLS certificate or protocol problem).", ex),
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } =>
                StepException.Retryable($"Could not connect to {origin}.", ex),
            HttpRequestException or IOException => StepException.Retryable($"The connection to {origin} failed while downloading.", ex),
            _ => StepException.Retryable($"Downloading from {origin} failed unexpectedly.", ex),
        };
    }

    private static string? TitleOf(ContentDispositionHeaderValue? disposition, Uri url)
    {
        var name = disposition?.FileNameStar ?? disposition?.FileName?.Trim('"');
        if (string.IsNullOrWhiteSpace(name))
        {
            name = Uri.UnescapeDataString(url.Segments.LastOrDefault() ?? "").Trim('/');
        }

        return MediaFiles.CleanTitle(Path.GetFileNameWithoutExtension(name));
    }

}
