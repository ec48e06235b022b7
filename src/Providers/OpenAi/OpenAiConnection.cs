using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;

namespace MediaActors.Providers.OpenAi;

/// <summary>
/// How one provider reaches an OpenAI-compatible API: the endpoint and key (per-use section first, then "OpenAI"),
/// and one thread-safe client whose own retries are off, because retries belong to the grains.
/// </summary>
public sealed class OpenAiConnection
{
    private readonly string? _apiKey;
    private readonly Lazy<OpenAIClient> _client;

    public OpenAiConnection(OpenAiOptions shared, OpenAiUseOptions use, string section)
    {
        ArgumentNullException.ThrowIfNull(shared);
        ArgumentNullException.ThrowIfNull(use);
        Section = section;
        Endpoint = use.Endpoint ?? shared.Endpoint;
        _apiKey = string.IsNullOrWhiteSpace(use.ApiKey) ? shared.ApiKey : use.ApiKey;
        Timeout = TimeSpan.FromSeconds(Math.Max(1, shared.TimeoutSeconds));
        _client = new Lazy<OpenAIClient>(CreateClient);
    }

    /// <summary>The configuration section of the use, named in "not configured" errors.</summary>
    public string Section { get; }

    public Uri Endpoint { get; }

    public TimeSpan Timeout { get; }

    /// <summary>False when no API key is set: the provider must not be chosen.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(_apiKey);

    /// <summary>The client; throws a permanent <see cref="StepException"/> when no API key is configured.</summary>
    public OpenAIClient Client => IsConfigured
        ? _client.Value
        : throw StepException.Permanent($"OpenAI is not configured: set OpenAI:ApiKey (or {Section}:ApiKey).");

    /// <summary>Turns any failure of a request into a <see cref="StepException"/> whose message never holds the key.</summary>
    public StepException Failure(Exception exception, string operation) => OpenAiFailure.ToStepException(exception, operation, _apiKey);

    /// <summary>Removes the key (and anything shaped like an OpenAI key) from a text meant for users or logs.</summary>
    public string Redact(string text) => OpenAiFailure.Redact(text, _apiKey);

    private OpenAIClient CreateClient()
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = Endpoint,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = Timeout,
            UserAgentApplicationId = "MediaActors",
        };
        return new OpenAIClient(new ApiKeyCredential(_apiKey!), options);
    }
}
