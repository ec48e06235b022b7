namespace MediaActors.Providers.OpenAi;

/// <summary>The OpenAI-compatible service shared by transcription, content and embeddings (section "OpenAI").</summary>
public sealed class OpenAiOptions
{
    public const string SectionName = "OpenAI";

    /// <summary>Base URL of the API, including the version segment (any OpenAI-compatible server).</summary>
    public Uri Endpoint { get; set; } = new("https://api.openai.com/v1");

    /// <summary>The API key; without one the OpenAI providers are not configured.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one HTTP request may take before it fails as a (transient) timeout.</summary>
    public int TimeoutSeconds { get; set; } = 600;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ApiKey);
}

/// <summary>Settings every per-use section shares: an optional endpoint and key overriding the "OpenAI" section, and the model.</summary>
public abstract class OpenAiUseOptions
{
    /// <summary>Overrides OpenAI:Endpoint for this use only (e.g. a self-hosted Whisper server).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Overrides OpenAI:ApiKey for this use only.</summary>
    public string? ApiKey { get; set; }

    public abstract string Model { get; set; }
}
