namespace MediaActors.Providers.Ingestion;

/// <summary>Settings of URL ingestion (configuration section "Ingestion").</summary>
public sealed class IngestionOptions
{
    public const string SectionName = "Ingestion";

    /// <summary>The yt-dlp program: a name looked up on PATH or a full path.</summary>
    public string YtDlpPath { get; set; } = "yt-dlp";

    /// <summary>Allow links to loopback, private, link-local and metadata addresses (development and tests only).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>
    /// Private endpoints allowed even when <see cref="AllowPrivateNetworks"/> is false, as "address" (any port)
    /// or "address:port" ("10.0.0.5:8080", "[fd00::5]:443"), e.g. an internal media server. Empty by default.
    /// </summary>
    public List<string> AllowedPrivateEndpoints { get; set; } = [];

    /// <summary>The largest file a link may deliver, in bytes (default 5 GiB).</summary>
    public long MaxDownloadBytes { get; set; } = 5L * 1024 * 1024 * 1024;

    /// <summary>The longest a whole download may take.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest a connection attempt or a single read may wait (also yt-dlp's --socket-timeout).</summary>
    public TimeSpan SocketTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many redirects a direct link may follow; each hop is checked again.</summary>
    public int MaxRedirects { get; set; } = 5;

    /// <summary>User-Agent for direct downloads and yt-dlp; when empty, direct downloads send "MediaActors/1.0" and yt-dlp its own default.</summary>
    public string? UserAgent { get; set; }

    internal const string DefaultHttpUserAgent = "MediaActors/1.0 (+media ingestion)";
}
