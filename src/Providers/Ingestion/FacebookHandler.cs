namespace MediaActors.Providers.Ingestion;

/// <summary>Facebook videos and reels (facebook.com/.../videos/..., fb.watch).</summary>
public sealed class FacebookHandler(YtDlpDownloader ytDlp) : YtDlpPlatformHandler(ytDlp)
{
    public override SourcePlatform Platform => SourcePlatform.Facebook;
}
