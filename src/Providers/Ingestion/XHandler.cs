namespace MediaActors.Providers.Ingestion;

/// <summary>Videos in X/Twitter posts (x.com or twitter.com .../status/...).</summary>
public sealed class XHandler(YtDlpDownloader ytDlp) : YtDlpPlatformHandler(ytDlp)
{
    public override SourcePlatform Platform => SourcePlatform.X;
}
