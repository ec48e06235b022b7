using System.ClientModel;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MediaActors.Providers.OpenAi;

/// <summary>
/// Maps failures of OpenAI-compatible requests to <see cref="StepException"/>: 429, 5xx, timeouts and connection errors are
/// transient; other 4xx (400, 401, 403, 404, 413, 422...) are permanent. Messages never carry the API key.
/// </summary>
public static partial class OpenAiFailure
{
    private const int MaxDetailChars = 500;

    /// <summary>The step exception for <paramref name="exception"/>, raised while doing <paramref name="operation"/> ("transcription", "chat completion"...).</summary>
    public static StepException ToStepException(Exception exception, string operation, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(exception);
        switch (exception)
        {
            case StepException step:
                return step;
            case ClientResultException { Status: > 0 } http:
                return FromStatus(http, operation, apiKey);
            case ClientResultException unreachable:
                // Status 0: no response at all (connection refused, DNS, reset). The SDK puts the transport error inside.
                return StepException.Retryable(
                    Redact($"OpenAI {operation} request failed: could not reach the API ({Describe(unreachable.InnerException ?? unreachable)}).", apiKey),
                    unreachable.InnerException);
            case TimeoutException or OperationCanceledException:
                return StepException.Retryable($"OpenAI {operation} request timed out.", exception);
            case HttpRequestException or IOException or SocketException:
                return StepException.Retryable(
                    Redact($"OpenAI {operation} request failed: could not reach the API ({Describe(exception)}).", apiKey), exception);
            default:
                return StepException.Permanent(
                    Redact($"OpenAI {operation} request failed: unexpected response ({exception.GetType().Name}: {Truncate(exception.Message)}).", apiKey));
        }
    }

    /// <summary>True for HTTP statuses worth retrying later.</summary>
    public static bool IsTransientStatus(int status) => status is 408 or 409 or 425 or 429 or >= 500;

    /// <summary>Removes the key, bearer tokens and anything shaped like an OpenAI key from <paramref name="text"/>.</summary>
    public static string Redact(string text, string? apiKey)
    {
        if (!string.IsNullOrEmpty(apiKey))
        {
            text = text.Replace(apiKey, "[redacted]", StringComparison.Ordinal);
        }

        text = BearerToken().Replace(text, "Bearer [redacted]");
        return KeyShaped().Replace(text, "[redacted]");
    }

    private static StepException FromStatus(ClientResultException http, string operation, string? apiKey)
    {
        var status = http.Status;
        var (detail, code) = ReadError(http);
        var transient = IsTransientStatus(status);
        string? hint = status switch
        {
            401 => "check OpenAI:ApiKey",
            403 => "the key is not allowed to use this model or endpoint",
            404 => "check the model name and OpenAI:Endpoint",
            413 => "the upload is larger than the provider accepts; lower Transcription:OpenAI:MaxUploadBytes",
            429 when code == "insufficient_quota" => "the account has no quota left",
            429 => "rate limited, retry later",
            _ => null,
        };

        // Exhausted quota comes back as 429 but will not fix itself with a retry.
        if (status == 429 && code == "insufficient_quota")
        {
            transient = false;
        }

        var message = $"OpenAI {operation} request failed with HTTP {status}{ReasonPhrase(status)}"
            + (detail is null ? "" : $": {detail}")
            + (hint is null ? "." : $" ({hint}).");

        // The SDK's own exception text includes the raw response, so it is not kept as the inner exception.
        return new StepException(Redact(message, apiKey), transient);
    }

    private static (string? Detail, string? Code) ReadError(ClientResultException http)
    {
        BinaryData? content;
        try
        {
            content = http.GetRawResponse()?.Content;
        }
        catch (InvalidOperationException)
        {
            return (null, null);
        }

        if (content is null || content.ToMemory().IsEmpty)
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(content.ToMemory());
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.String)
                    {
                        return (Truncate(error.GetString()!), null);
                    }

                    if (error.ValueKind == JsonValueKind.Object)
                    {
                        var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                        var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()
                            : error.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                        var detail = message is null ? code : code is null ? message : $"{message} [{code}]";
                        return (detail is null ? null : Truncate(detail), code);
                    }
                }

                foreach (var name in new[] { "message", "detail" })
                {
                    if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        return (Truncate(value.GetString()!), null);
                    }
                }
            }
        }
        catch (JsonException)
        {
            var text = content.ToString().Trim();
            return (text.Length == 0 ? null : Truncate(text), null);
        }

        return (null, null);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        400 => " Bad Request",
        401 => " Unauthorized",
        403 => " Forbidden",
        404 => " Not Found",
        408 => " Request Timeout",
        409 => " Conflict",
        413 => " Payload Too Large",
        415 => " Unsupported Media Type",
        422 => " Unprocessable Entity",
        429 => " Too Many Requests",
        500 => " Internal Server Error",
        502 => " Bad Gateway",
        503 => " Service Unavailable",
        504 => " Gateway Timeout",
        _ => "",
    };

    private static string Describe(Exception exception)
    {
        // HttpRequestException names the host and port; deeper exceptions only say "Connection refused".
        var current = exception;
        while (current is not HttpRequestException && current.InnerException is not null)
        {
            current = current.InnerException;
        }

        return Truncate(current.Message);
    }

    private static string Truncate(string text) => text.Length <= MaxDetailChars ? text : text[..MaxDetailChars] + "...";

    [GeneratedRegex(@"Bearer\s+\S+", RegexOptions.IgnoreCase)]
    private static partial Regex BearerToken();

    [GeneratedRegex(@"\bsk-[A-Za-z0-9_\-\*\.]{4,}")]
    private static partial Regex KeyShaped();
}
