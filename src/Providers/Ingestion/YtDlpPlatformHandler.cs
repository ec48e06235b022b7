namespace MediaActors.Providers.Ingestion;

/// <summary>A platform whose videos yt-dlp downloads; a handler only says which platform it is.</summary>
public abstract class YtDlpPlatformHandler(YtDlpDownloader ytDlp) : IPlatformHandler
{
    public abstract SourcePlatform Platform { get; }

    public bool CanHandle(Uri url) => PlatformDetector.Detect(url) == Platform;

    public Task<DownloadedMedia> DownloadAsync(Uri url, string targetDirectory, long maxBytes, IProgress<double>? progress, CancellationToken cancellationToken) =>
        ytDlp.DownloadAsync(url, targetDirectory, maxBytes, progress, cancellationToken);
}
