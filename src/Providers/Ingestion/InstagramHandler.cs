namespace MediaActors.Providers.Ingestion;

/// <summary>Instagram reels, posts and IGTV (instagram.com/reel|p|tv/...).</summary>
public sealed class InstagramHandler(YtDlpDownloader ytDlp) : YtDlpPlatformHandler(ytDlp)
{
    public override SourcePlatform Platform => SourcePlatform.Instagram;
}
