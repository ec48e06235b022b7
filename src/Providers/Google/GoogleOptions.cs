namespace MediaActors.Providers.Google;

/// <summary>
/// Google settings (section "Google"): the OAuth client the user connects with, and the API base addresses (Google's by
/// default; tests point them at a local server that speaks the same protocol).
/// </summary>
public sealed class GoogleOptions
{
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>Where Google sends the user back after consent: this API's /api/google/callback as the user's browser reaches it.</summary>
    public Uri? RedirectUri { get; set; }

    /// <summary>Asked at consent: uploading to YouTube, reading YouTube (to check an earlier upload still exists) and reading Drive.</summary>
    public IList<string> Scopes { get; set; } =
    [
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube.readonly",
        "https://www.googleapis.com/auth/drive.readonly",
    ];

    public Uri AuthorizationEndpoint { get; set; } = new("https://accounts.google.com/o/oauth2/v2/auth");

    public Uri TokenEndpoint { get; set; } = new("https://oauth2.googleapis.com/token");

    public Uri RevokeEndpoint { get; set; } = new("https://oauth2.googleapis.com/revoke");

    /// <summary>YouTube Data API v3 (videos.list).</summary>
    public Uri YouTubeApi { get; set; } = new("https://www.googleapis.com/youtube/v3/");

    /// <summary>YouTube's upload endpoint (videos.insert, resumable).</summary>
    public Uri YouTubeUploadApi { get; set; } = new("https://www.googleapis.com/upload/youtube/v3/");

    /// <summary>Drive API v3 (files.get, files.list, alt=media downloads).</summary>
    public Uri DriveApi { get; set; } = new("https://www.googleapis.com/drive/v3/");

    /// <summary>Bytes per upload request; rounded down to a multiple of 256 KiB as YouTube requires (default 8 MiB).</summary>
    public int UploadChunkBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Bytes per Range request of a Drive download (default 8 MiB).</summary>
    public int DownloadChunkBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Timeout of one request (one chunk).</summary>
    public int TimeoutSeconds { get; set; } = 120;

    /// <summary>Connection failures in a row, each followed by a status query, before an upload or download gives up (as a transient failure).</summary>
    public int MaxInterruptionsInARow { get; set; } = 3;

    /// <summary>Whether a Google OAuth client is configured; without it every publish endpoint answers how to configure one.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(ClientId) && !string.IsNullOrWhiteSpace(ClientSecret) && RedirectUri is not null;

    /// <summary>The upload chunk size YouTube accepts: a positive multiple of 256 KiB.</summary>
    public int EffectiveUploadChunkBytes => Math.Max(1, UploadChunkBytes / GoogleApiFailure.UploadChunkUnit) * GoogleApiFailure.UploadChunkUnit;
}
