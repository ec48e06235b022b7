using Microsoft.Net.Http.Headers;

namespace MediaActors.Api;

/// <summary>Checks done before endpoints see a request.</summary>
public static class RequestGuards
{
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

    /// <summary>True when a text has characters no field of ours accepts (NUL and other control characters).</summary>
    public static bool HasControlCharacters(string? text) => text is not null && text.Any(char.IsControl);
}
