using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace MediaActors.Api;

/// <summary>Checks done before endpoints see a request.</summary>
public static class RequestGuards
{
    /// <summary>How deep a JSON body may nest (objects and arrays, the root counting as 1); the serializer uses the same limit.</summary>
    public const int MaxJsonDepth = 32;

    /// <summary>
    /// JSON bodies must be UTF-8: another or unknown charset is answered 415 here, because the framework's body
    /// binding would throw on it; a quoted "utf-8" is normalised.
    /// </summary>
    public static IApplicationBuilder UseJsonCharsetGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var contentType = context.Request.ContentType;
        if (contentType is not null && contentType.Contains("charset", StringComparison.OrdinalIgnoreCase))
        {
            if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.Charset.Value is not { } charset
                || charset.Trim('"').Trim() is not ("utf-8" or "UTF-8" or "utf8" or "UTF8"))
            {
                await Results.Problem(
                    title: "Unsupported media type.",
                    detail: "Send JSON bodies as application/json in UTF-8.",
                    statusCode: StatusCodes.Status415UnsupportedMediaType).ExecuteAsync(context);
                return;
            }

            context.Request.ContentType = $"{parsed.MediaType}; charset=utf-8";
        }

        await next();
    });

    /// <summary>
    /// The JSON body of an endpoint that binds one is read here first, within Limits:MaxRequestBodyBytes: a body over the
    /// limit (with a Content-Length or chunked) is answered 413, one nested deeper than <see cref="MaxJsonDepth"/> 400, both
    /// problem+json with a detail that names the limit. (The framework's binding refuses both too, but without saying why.)
    /// Other bodies are handed on unchanged from memory; malformed JSON is left to the binding. Runs after authorization,
    /// so the body of a refused request is never read.
    /// </summary>
    public static IApplicationBuilder UseJsonBodyGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not { RequestType: not null } accepts
            || !context.Request.HasJsonContentType()
            || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            await next();
            return;
        }

        var limit = context.RequestServices.GetRequiredService<IOptions<LimitOptions>>().Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            await TooLargeAsync(context, limit);
            return;
        }

        // Kestrel counts the chunk framing of a chunked body against its limit (Limits.cs), so a chunked body a little under
        // the limit would be refused: here the limit is counted in body bytes, and Kestrel's ceiling only bounds the framing.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size && size.MaxRequestBodySize is { } ceiling)
        {
            var least = Math.Max(ceiling, limit);
            size.MaxRequestBodySize = least > long.MaxValue / 2 ? long.MaxValue : least * 2;
        }

        byte[]? body;
        try
        {
            body = await ReadAtMostAsync(context.Request.Body, limit, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode != StatusCodes.Status413PayloadTooLarge)
        {
            // Broken framing (a bad chunk, a body cut short): what the framework's binding answers too, no detail to add.
            context.Response.StatusCode = ex.StatusCode;
            return;
        }
        catch (BadHttpRequestException)
        {
            body = null;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away while sending: nobody to answer.
            return;
        }
        catch (IOException)
        {
            // The body could not be read; the framework's binding answers this 400 as well.
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        if (body is null)
        {
            await TooLargeAsync(context, limit);
            return;
        }

        if (IsNestedTooDeep(body, MaxJsonDepth))
        {
            await Problems.BadRequest($"The JSON body is nested more than {MaxJsonDepth} levels deep (objects and arrays).").ExecuteAsync(context);
            return;
        }

        // Bad JSON or a value of the wrong type: the binding would answer 400 without saying what is wrong, so say it here.
        if (JsonProblem(body, accepts.RequestType, context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions) is { } problem)
        {
            await Problems.BadRequest(problem).ExecuteAsync(context);
            return;
        }

        var original = context.Request.Body;
        context.Request.Body = new MemoryStream(body, writable: false);
        try
        {
            await next();
        }
        finally
        {
            context.Request.Body = original;
        }
    });

    /// <summary>
    /// True when a JSON text nests objects and arrays more than <paramref name="maxDepth"/> deep (the root value at depth 1,
    /// as the serializer's MaxDepth counts). Text that is not JSON is false: the binding answers that.
    /// </summary>
    public static bool IsNestedTooDeep(ReadOnlySpan<byte> json, int maxDepth)
    {
        if (json.StartsWith(System.Text.Encoding.UTF8.Preamble))
        {
            json = json[System.Text.Encoding.UTF8.Preamble.Length..];
        }

        // One level more than allowed, so the container that is one too deep is read as a token instead of throwing.
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth + 1 });
        try
        {
            while (reader.Read())
            {
                // CurrentDepth of a container's start is the number of containers around it (0 for the root).
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= maxDepth)
                {
                    return true;
                }
            }
        }
        catch (JsonException)
        {
            // Malformed before it got too deep.
        }

        return false;
    }

    /// <summary>
    /// Why a body cannot be read as <paramref name="requestType"/> (syntax error, wrong type, empty), or null when it can.
    /// The serializer's message says where (JSON path, line and byte); control characters are dropped and it is cut short.
    /// </summary>
    public static string? JsonProblem(byte[] body, Type requestType, JsonSerializerOptions options)
    {
        try
        {
            // From a stream, as the framework's binding reads it (which also skips a UTF-8 byte-order mark).
            using var stream = new MemoryStream(body, writable: false);
            JsonSerializer.Deserialize(stream, requestType, options);
            return null;
        }
        catch (JsonException ex)
        {
            return $"The request body is not valid JSON for this request: {Describe(ex)}";
        }
    }

    /// <summary>Where and what: "the value at $.title has the wrong type (line 1, byte 11)", or the parser's own words for bad syntax.</summary>
    private static string Describe(JsonException ex)
    {
        // The path is made of the client's property names: cleaned and bounded like the rest.
        var path = new string((ex.Path ?? "").Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        path = path.Length > 100 ? path[..100] + "..." : path;
        var at = path.Length == 0 || path == "$" ? "" : $" at {path}";
        var position = ex.LineNumber is { } line ? $" (line {line + 1}, byte {(ex.BytePositionInLine ?? 0) + 1})" : "";
        if (ex.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return at.Length == 0 ? $"the body has the wrong shape (an object is expected){position}." : $"the value{at} has the wrong type{position}.";
        }

        // The parser's message ends with its own "Path: ... | LineNumber: ..." and may name our types: say it in our words.
        var reason = ex.Message;
        var cut = reason.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut > 0)
        {
            reason = reason[..cut];
        }

        reason = System.Text.RegularExpressions.Regex.Replace(reason, @"'?\b(?:MediaActors|System)(?:\.\w+)+(?:`\d+\[[^\]]*\])?'?", "the request");
        reason = new string(reason.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        if (reason.Length > 300)
        {
            reason = reason[..300] + "...";
        }

        return $"{reason.TrimEnd('.')}{at}{position}.";
    }

    /// <summary>413 problem+json; the connection is closed afterwards rather than the rest of the body read and thrown away.</summary>
    private static Task TooLargeAsync(HttpContext context, long limit)
    {
        context.Response.Headers.Connection = "close";
        return Problems.TooLarge($"The request body is larger than {limit} bytes (Limits:MaxRequestBodyBytes). Files are not sent to the API: upload them through POST /api/uploads.")
            .ExecuteAsync(context);
    }

    /// <summary>The whole stream, or null when it holds more than <paramref name="limit"/> bytes.</summary>
    private static async Task<byte[]?> ReadAtMostAsync(Stream stream, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>True when a text has characters no field of ours accepts (NUL and other control characters).</summary>
    public static bool HasControlCharacters(string? text) => text is not null && text.Any(char.IsControl);
}
