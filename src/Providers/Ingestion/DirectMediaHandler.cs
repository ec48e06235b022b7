namespace MediaActors.Providers.Ingestion;

/// <summary>
/// Any other link: fetched with the guarded HttpClient and streamed to disk. When the link answers with a web page
/// (or a streaming manifest) instead of media, yt-dlp looks for the video the page embeds.
/// </summary>
public sealed class DirectMediaHandler(HttpMediaDownloader http, YtDlpDownloader ytDlp) : IPlatformHandler
{
    public SourcePlatform Platform => SourcePlatform.Direct;

    public bool CanHandle(Uri url) => PlatformDetector.Detect(url) == SourcePlatform.Direct;

    public async Task<DownloadedMedia> DownloadAsync(Uri url, string targetDirectory, long maxBytes, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        MediaFiles.DeleteDownloads(targetDirectory);
        var fetched = await http.DownloadAsync(url, null, targetDirectory, maxBytes, acceptWebPage: true, progress, cancellationToken);
        return fetched.Media
            ?? await ytDlp.DownloadFromWebPageAsync(fetched.WebPageUrl!, targetDirectory, maxBytes, progress, cancellationToken);
    }
}
