namespace MediaActors.Providers.Ingestion;

/// <summary>TikTok videos (tiktok.com/@user/video/..., vm.tiktok.com).</summary>
public sealed class TikTokHandler(YtDlpDownloader ytDlp) : YtDlpPlatformHandler(ytDlp)
{
    public override SourcePlatform Platform => SourcePlatform.TikTok;
}
