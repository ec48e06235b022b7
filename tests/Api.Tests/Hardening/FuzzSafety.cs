using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MediaActors.Api.Projects;
using MediaActors.Api.Uploads;
using MediaActors.Providers;
using MediaActors.Providers.Ingestion;

namespace MediaActors.Api.Tests.Hardening;

/// <summary>The legitimate data the fuzz requests are aimed at.</summary>
/// <param name="ProjectId">A project of the development user (failed), never cancelled, retried or deleted by the fuzz.</param>
/// <param name="UploadId">A pending upload of the development user, never linked to a project by the fuzz.</param>
/// <param name="ApiKey">The development key, valid.</param>
/// <param name="ApiKeyId">Its id, never revoked by the fuzz.</param>
/// <param name="Jwt">A valid JWT for the development user.</param>
/// <param name="BadJwts">Malformed JWTs (see <see cref="FuzzTokens"/>).</param>
public sealed record FuzzTargets(Guid ProjectId, Guid UploadId, string ApiKey, Guid ApiKeyId, string Jwt, IReadOnlyList<(string Label, string Token)> BadJwts);

/// <summary>
/// Keeps the fuzz from sending a request that is legitimately allowed to change data: the point of the test is that
/// malformed input changes nothing, so every generated request is checked here with the server's own rules before it is
/// sent, and generated again if it could be a real change. Refused:
/// <list type="bullet">
/// <item>POST or DELETE to a target that names the set-up's project or the development key in any spelling (cancel, retry,
/// delete, revoke are real changes);</item>
/// <item>any POST whose body the API would accept as an upload, project or API key creation, read the way the API reads it
/// (same System.Text.Json options, also after stripping a BOM, after transcoding from the declared charset and cut to a shorter
/// declared Content-Length), checked with the same rules as the endpoints (and <see cref="LinkRules"/> for links).</item>
/// </list>
/// An upload creation whose strings cannot be stored as text (a NUL character, an unpaired UTF-16 surrogate) counts as
/// malformed, not as a creation: it is sent, and the API must refuse it with a 4xx and store nothing.
/// </summary>
public static class FuzzSafety
{
    /// <summary>How the API binds JSON bodies (Program.cs: web defaults, snake_case enums, depth 32).</summary>
    public static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web)
    {
        MaxDepth = 32,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Uploads:MaxBytes, not overridden by the fuzz cluster.</summary>
    private static readonly long MaxUploadBytes = new UploadOptions().MaxBytes;

    /// <summary>Why the request must not be sent, or null when it is safe.</summary>
    public static string? WhyUnsafe(FuzzRequest request, FuzzTargets targets)
    {
        var line = request.RequestLine?.Split(' ');
        var method = (line?[0] ?? request.Method).Trim();
        var target = line is { Length: > 1 } ? line[1] : request.Target;
        var mutating = method.Equals("POST", StringComparison.OrdinalIgnoreCase) || method.Equals("DELETE", StringComparison.OrdinalIgnoreCase);
        if (mutating && Flatten(target).Contains(targets.ProjectId.ToString("N"), StringComparison.Ordinal))
        {
            return $"{method} to a target that names the project";
        }

        if (mutating && Flatten(target).Contains(targets.ApiKeyId.ToString("N"), StringComparison.Ordinal))
        {
            return $"{method} to a target that names the development key";
        }

        if (mutating && request.Body is { Length: > 0 })
        {
            foreach (var body in BodyCandidates(request))
            {
                if (WouldCreateUpload(body))
                {
                    return "a valid upload creation";
                }

                if (WouldCreateProject(body, targets))
                {
                    return "a valid project creation";
                }

                if (WouldCreateKey(body))
                {
                    return "a valid API key creation";
                }
            }
        }

        return null;
    }

    /// <summary>The target percent-decoded (three times over, for double encoding), lower case, without GUID punctuation.</summary>
    private static string Flatten(string target)
    {
        var text = target;
        for (var i = 0; i < 3; i++)
        {
            text = Uri.UnescapeDataString(text);
        }

        return new string(text.ToLowerInvariant().Where(c => c is not ('-' or '{' or '}' or '(' or ')' or ' ' or '\t')).ToArray());
    }

    private static IEnumerable<byte[]> BodyCandidates(FuzzRequest request)
    {
        var body = request.Body!;
        yield return body;
        if (request.DeclaredLength is { } declared && declared >= 0 && declared < body.Length)
        {
            yield return body[..(int)declared];
        }

        if (body.AsSpan().StartsWith(Encoding.UTF8.Preamble))
        {
            yield return body[Encoding.UTF8.Preamble.Length..];
        }

        if (Charset(request.ContentType) is { } charset)
        {
            Encoding? encoding = null;
            try
            {
                encoding = Encoding.GetEncoding(charset);
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
            {
                // Not an encoding .NET knows (or UTF-7, which is disabled): the API cannot transcode it either.
            }

            if (encoding is not null)
            {
                yield return Encoding.UTF8.GetBytes(encoding.GetString(body).TrimStart('\uFEFF'));
            }
        }
    }

    private static string? Charset(string? contentType)
    {
        if (contentType is null)
        {
            return null;
        }

        foreach (var part in contentType.Split(';').Skip(1))
        {
            var pair = part.Split('=', 2);
            if (pair.Length == 2 && pair[0].Trim().Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                return pair[1].Trim().Trim('"');
            }
        }

        return null;
    }

    private static T? Read<T>(byte[] body)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(new MemoryStream(body), ApiJson);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>UploadEndpoints.CreateAsync's checks.</summary>
    public static bool WouldCreateUpload(byte[] body)
    {
        if (Read<CreateUploadRequest>(body) is not { } request)
        {
            return false;
        }

        var contentType = request.ContentType?.Trim().ToLowerInvariant();
        var valid = !string.IsNullOrWhiteSpace(request.FileName) && request.FileName.Length <= 255
            && contentType is not null && contentType.Length <= 100
            && (contentType.StartsWith("video/", StringComparison.Ordinal) || contentType.StartsWith("audio/", StringComparison.Ordinal) || contentType == "application/octet-stream")
            && request.SizeBytes is > 0 && request.SizeBytes <= MaxUploadBytes;
        return valid && IsStorable(request.FileName!) && IsStorable(contentType!);
    }

    /// <summary>ProjectEndpoints.CreateAsync's checks: a project would be created (or an upload linked) if this passes.</summary>
    public static bool WouldCreateProject(byte[] body, FuzzTargets targets)
    {
        if (Read<CreateProjectRequest>(body) is not { } request)
        {
            return false;
        }

        var title = request.Title?.Trim() ?? "";
        if (title.Length > 200 || title.Any(char.IsControl))
        {
            return false;
        }

        if ((request.UploadId is null) == string.IsNullOrWhiteSpace(request.Url))
        {
            return false;
        }

        if (request.UploadId is { } uploadId)
        {
            // Only the set-up's upload can be linked; any other id answers 404.
            return uploadId == targets.UploadId;
        }

        try
        {
            // A link that parses is accepted (this cluster allows private addresses, and a failed DNS lookup is retried later).
            LinkRules.Parse(request.Url);
            return true;
        }
        catch (StepException)
        {
            return false;
        }
        catch (Exception)
        {
            // The API would fail on it too (and the fuzz reports that): nothing is created.
            return false;
        }
    }

    /// <summary>KeyEndpoints' POST /api/keys checks.</summary>
    public static bool WouldCreateKey(byte[] body)
    {
        if (Read<MediaActors.Api.Auth.CreateKeyRequest>(body) is not { } request)
        {
            return false;
        }

        var name = request.Name?.Trim() ?? "";
        return name.Length is > 0 and <= 100 && !name.Any(char.IsControl);
    }

    /// <summary>Text PostgreSQL can store faithfully: no NUL, no unpaired surrogate.</summary>
    public static bool IsStorable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return false;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }
}
