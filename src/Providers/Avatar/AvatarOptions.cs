namespace MediaActors.Providers.Avatar;

/// <summary>The avatar-video generator (section "Avatar"): an external workflow (n8n-style) behind a webhook, and the callbacks it makes.</summary>
public sealed class AvatarOptions
{
    /// <summary>Where videos are dispatched (POST, signed).</summary>
    public Uri? GeneratorUrl { get; set; }

    /// <summary>The shared secret of the HMAC-SHA256 signatures, both ways (at least 16 characters).</summary>
    public string? Secret { get; set; }

    /// <summary>This API's address as the generator reaches it: the callback URLs are built on it.</summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>A video with no callback this long after its dispatch fails.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(45);

    /// <summary>The estimate given for a new video while there is no history to take a median from.</summary>
    public TimeSpan DefaultEstimate { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How far a webhook's timestamp may be from now.</summary>
    public TimeSpan SignatureWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest result file taken.</summary>
    public long MaxResultBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>How long one dispatch request may take.</summary>
    public TimeSpan DispatchTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Tries of a dispatch or result download that failed for a transient reason.</summary>
    public int MaxAttempts { get; set; } = 5;

    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromMinutes(5);

    public bool IsConfigured => GeneratorUrl is not null && Secret is { Length: >= 16 } && PublicBaseUrl is not null;

    /// <summary>What to set, for the error answered while it is not configured.</summary>
    public const string HowToConfigure =
        "Avatar videos need a generator: set Avatar__GeneratorUrl (the workflow's webhook), Avatar__Secret (the shared HMAC secret, at least 16 characters) "
        + "and Avatar__PublicBaseUrl (this API's address as the generator reaches it, for the callbacks) on the API hosts and silos.";
}
