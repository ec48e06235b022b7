using System.Net;
using System.Text.Json;

namespace MediaActors.Providers.Google;

/// <summary>What a failed Google call means for the job that made it.</summary>
public enum GoogleFailureKind
{
    /// <summary>403 quotaExceeded / dailyLimitExceeded: wait for the daily quota to reset; not the job's fault.</summary>
    Quota,

    /// <summary>401: the access token was refused (refresh it once), or the grant itself was revoked (reconnect).</summary>
    Unauthorized,

    /// <summary>400: the request itself is wrong (bad metadata); failing again would give the same answer.</summary>
    BadRequest,

    /// <summary>404: the file, the video or the upload session is gone.</summary>
    NotFound,

    /// <summary>429, 5xx, other 403 (rate limits), timeouts and dropped connections: worth another try after a backoff.</summary>
    Transient,

    /// <summary>Anything else Google refused.</summary>
    Permanent,
}

/// <summary>A failed Google API call: its HTTP status, Google's reason code and message. Never carries a token.</summary>
public sealed class GoogleApiException(GoogleFailureKind kind, int status, string? reason, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public GoogleFailureKind Kind { get; } = kind;

    /// <summary>The HTTP status (0 when no answer came).</summary>
    public int Status { get; } = status;

    /// <summary>Google's reason code ("quotaExceeded", "invalidTitle", "invalid_grant"...), when it gave one.</summary>
    public string? Reason { get; } = reason;
}

/// <summary>Reads Google's error answers: {"error":{"code","message","errors":[{"reason"}]}} and the token endpoint's {"error","error_description"}.</summary>
public static class GoogleApiFailure
{
    /// <summary>YouTube upload chunks are multiples of this (256 KiB).</summary>
    public const int UploadChunkUnit = 256 * 1024;

    private const int MaxMessageChars = 400;

    /// <summary>The exception for a non-success answer to <paramref name="operation"/>.</summary>
    public static async Task<GoogleApiException> FromResponseAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            body = "";
        }

        var (reason, message) = Parse(body);
        var kind = Classify(response.StatusCode, reason);
        var text = $"Google {operation} failed: {status} {(reason is null ? "" : reason + ": ")}{message ?? response.ReasonPhrase ?? "no details"}";
        return new GoogleApiException(kind, status, reason, Truncate(text));
    }

    /// <summary>The exception for a request that got no answer (connection refused or dropped, timeout).</summary>
    public static GoogleApiException Unreachable(Exception exception, string operation) =>
        new(GoogleFailureKind.Transient, 0, null, Truncate($"Google {operation} failed: no answer ({exception.GetType().Name}: {exception.Message})."), exception);

    public static GoogleFailureKind Classify(HttpStatusCode status, string? reason) => (int)status switch
    {
        403 when reason is "quotaExceeded" or "dailyLimitExceeded" => GoogleFailureKind.Quota,
        401 => GoogleFailureKind.Unauthorized,
        // The token endpoint answers 400 invalid_grant for a revoked or expired refresh token: the user must reconnect.
        400 when reason is "invalid_grant" => GoogleFailureKind.Unauthorized,
        400 => GoogleFailureKind.BadRequest,
        404 => GoogleFailureKind.NotFound,
        403 or 408 or 429 or >= 500 => GoogleFailureKind.Transient,
        _ => GoogleFailureKind.Permanent,
    };

    private static (string? Reason, string? Message) Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("error", out var error))
            {
                return (null, null);
            }

            if (error.ValueKind == JsonValueKind.String)
            {
                // The OAuth endpoints: {"error":"invalid_grant","error_description":"Token has been expired or revoked."}
                var description = root.TryGetProperty("error_description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                return (error.GetString(), description);
            }

            if (error.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            string? reason = null;
            if (error.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in errors.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String)
                    {
                        reason = r.GetString();
                        break;
                    }
                }
            }

            // Google's quota message holds an HTML link; users get the text.
            return (reason, message is null ? null : StripTags(message));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static string StripTags(string text) => System.Text.RegularExpressions.Regex.Replace(text, "<[^>]*>", "");

    private static string Truncate(string text) => text.Length <= MaxMessageChars ? text : text[..MaxMessageChars] + "...";
}
