namespace MediaActors.Providers.Ingestion;

/// <summary>Vimeo videos (vimeo.com/&lt;id&gt;, player.vimeo.com/video/&lt;id&gt;).</summary>
public sealed class VimeoHandler(YtDlpDownloader ytDlp) : YtDlpPlatformHandler(ytDlp)
{
    public override SourcePlatform Platform => SourcePlatform.Vimeo;
}
