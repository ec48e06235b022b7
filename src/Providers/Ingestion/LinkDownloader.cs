using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Ingestion;

/// <summary>A link's media on local disk, and the platform it came from.</summary>
public sealed record LinkDownload(SourcePlatform Platform, DownloadedMedia Media);

/// <summary>The one call the download step makes: validate the link, pick its platform's handler, download within the size limit.</summary>
public sealed class LinkDownloader(PlatformDetector detector, IOptions<IngestionOptions> options)
{
    /// <summary>
    /// Downloads the media of <paramref name="link"/> into "media.ext" in <paramref name="targetDirectory"/> (created when missing;
    /// use one directory per download and delete it afterwards). Progress is a fraction from 0 to 1.
    /// Throws <see cref="StepException"/>: permanent for bad or unsupported links, refused addresses, too large, 4xx;
    /// retryable for timeouts, broken connections, 5xx and 429. Throws <see cref="OperationCanceledException"/> when cancelled.
    /// <paramref name="maxBytes"/> lowers the configured limit (Ingestion:MaxDownloadBytes) for this download.
    /// </summary>
    public async Task<LinkDownload> DownloadAsync(string link, string targetDirectory, IProgress<double>? progress, CancellationToken cancellationToken,
        long? maxBytes = null)
    {
        var url = LinkRules.Parse(link);
        var handler = detector.Resolve(url);
        var limit = Math.Min(maxBytes ?? long.MaxValue, options.Value.MaxDownloadBytes);
        var media = await handler.DownloadAsync(url, targetDirectory, limit, progress, cancellationToken);
        return new LinkDownload(handler.Platform, media);
    }
}
