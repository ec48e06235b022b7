using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Avatar;

/// <summary>
/// Sends a video request to the configured generator: a signed JSON POST. 2xx is accepted (the generator may answer
/// {"executionId": ...}); 408, 429, 5xx and no answer are transient; any other 4xx is the generator refusing the request,
/// which another try would not change.
/// </summary>
public sealed class AvatarGenerator(HttpClient http, IOptions<AvatarOptions> options, TimeProvider time)
{
    public const string HttpClientName = "avatar";
    private const int MaxMessageChars = 400;

    /// <summary>POSTs <paramref name="body"/> (UTF-8 JSON) to the generator; returns the execution id it gave, if any.</summary>
    public async Task<string?> DispatchAsync(byte[] body, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.IsConfigured)
        {
            throw StepException.Permanent(AvatarOptions.HowToConfigure);
        }

        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.GeneratorUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(settings.Secret!, timestamp, body));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.DispatchTimeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, timeout.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or OperationCanceledException or IOException)
        {
            throw StepException.Retryable($"The avatar generator did not answer ({ex.GetType().Name}).", ex);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return ExecutionId(text);
            }

            var status = (int)response.StatusCode;
            var message = $"The avatar generator answered {status}: {Truncate(text)}";
            throw status is 408 or 429 || status >= 500 ? StepException.Retryable(message) : StepException.Permanent(message);
        }
    }

    private static string? ExecutionId(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("executionId", out var id)
                ? id.ToString() is { Length: > 0 and <= 200 } value ? value : null
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Truncate(string text)
    {
        var trimmed = string.IsNullOrWhiteSpace(text) ? "no details" : text.Trim();
        return trimmed.Length > MaxMessageChars ? trimmed[..MaxMessageChars] + "..." : trimmed;
    }
}
