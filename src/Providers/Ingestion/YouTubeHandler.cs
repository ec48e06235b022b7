namespace MediaActors.Providers.Ingestion;

/// <summary>YouTube videos, Shorts and live recordings (youtube.com/watch, youtu.be, /shorts/).</summary>
public sealed class YouTubeHandler(YtDlpDownloader ytDlp) : YtDlpPlatformHandler(ytDlp)
{
    public override SourcePlatform Platform => SourcePlatform.YouTube;
}
