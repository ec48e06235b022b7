using System.Text.Json;
using MediaActors.Grains.Videos;
using MediaActors.Providers.Avatar;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Api.Videos;

/// <summary>
/// The generator's callbacks, without an API key but signed (<see cref="WebhookSignature"/>): <c>POST /api/webhooks/video-complete</c>
/// {videoId, eventId, videoUrl} and <c>POST /api/webhooks/workflow-error</c> {videoId, eventId, message}. A bad or stale
/// signature is 401, an unknown video 404; a repeated event id, or a callback for a video that already ended, is 200 and
/// changes nothing (the answer's outcome says which).
/// </summary>
public static class WebhookEndpoints
{
    private const int MaxBody = 64 * 1024;

    public static void MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/webhooks").AllowAnonymous().WithTags("Webhooks");
        group.MapPost("/video-complete", (HttpContext http, NpgsqlDataSource db, IClusterClient cluster, IOptions<AvatarOptions> options, TimeProvider time) =>
            HandleAsync(http, db, cluster, options.Value, time, completion: true));
        group.MapPost("/workflow-error", (HttpContext http, NpgsqlDataSource db, IClusterClient cluster, IOptions<AvatarOptions> options, TimeProvider time) =>
            HandleAsync(http, db, cluster, options.Value, time, completion: false));
    }

    private static async Task<IResult> HandleAsync(HttpContext http, NpgsqlDataSource db, IClusterClient cluster, AvatarOptions options, TimeProvider time, bool completion)
    {
        if (!options.IsConfigured)
        {
            return VideoEndpoints.NotConfigured();
        }

        var body = await ReadBodyAsync(http.Request);
        if (body is null)
        {
            return Problems.TooLarge($"A webhook body is at most {MaxBody} bytes.");
        }

        var problem = WebhookSignature.Verify(options.Secret!, http.Request.Headers[WebhookSignature.TimestampHeader], http.Request.Headers[WebhookSignature.SignatureHeader],
            body, time.GetUtcNow(), options.SignatureWindow);
        if (problem != SignatureProblem.None)
        {
            return Results.Problem(title: "The webhook is not signed correctly.", statusCode: StatusCodes.Status401Unauthorized, detail: problem switch
            {
                SignatureProblem.Missing => $"Headers {WebhookSignature.TimestampHeader} and {WebhookSignature.SignatureHeader} are required.",
                SignatureProblem.BadTimestamp => $"{WebhookSignature.TimestampHeader} must be the Unix time in seconds.",
                SignatureProblem.Stale => $"{WebhookSignature.TimestampHeader} is more than {options.SignatureWindow.TotalMinutes:0} minutes from now.",
                _ => "The signature does not match the body and timestamp.",
            });
        }

        Guid videoId;
        string eventId;
        Uri? videoUrl = null;
        string? message = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var errors = new Dictionary<string, string[]>();
            if (!root.TryGetProperty("videoId", out var idElement) || idElement.ValueKind != JsonValueKind.String || !Guid.TryParse(idElement.GetString(), out videoId))
            {
                errors["videoId"] = ["Required: the id MediaActors sent with the request."];
                videoId = Guid.Empty;
            }

            eventId = root.TryGetProperty("eventId", out var eventElement) && eventElement.ValueKind == JsonValueKind.String ? eventElement.GetString()!.Trim() : "";
            if (eventId.Length is 0 or > 200)
            {
                errors["eventId"] = ["Required: the event's unique id (1 to 200 characters); a repeated id is ignored."];
            }

            if (completion)
            {
                if (!root.TryGetProperty("videoUrl", out var url) || url.ValueKind != JsonValueKind.String
                    || !Uri.TryCreate(url.GetString(), UriKind.Absolute, out videoUrl) || videoUrl.Scheme is not ("http" or "https"))
                {
                    errors["videoUrl"] = ["Required: an absolute http(s) URL of the finished video."];
                }
            }
            else
            {
                message = root.TryGetProperty("message", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null;
                message = string.IsNullOrWhiteSpace(message) ? "no message" : message.Length > 2000 ? message[..2000] : message;
            }

            if (errors.Count > 0)
            {
                return Problems.BadRequest("The webhook body is not valid: see errors.", errors);
            }
        }
        catch (JsonException)
        {
            return Problems.BadRequest("The webhook body is not JSON.");
        }

        if (!await ExistsAsync(db, videoId, http.RequestAborted))
        {
            return Results.Problem(title: "Not found.", detail: "No video with this id exists.", statusCode: StatusCodes.Status404NotFound);
        }

        try
        {
            var grain = cluster.GetGrain<IVideoGrain>(videoId);
            var outcome = completion ? await grain.Completed(eventId, videoUrl!) : await grain.WorkflowFailed(eventId, message!);
            return outcome == WebhookOutcome.Unknown
                ? Results.Problem(title: "Not found.", detail: "No video with this id exists.", statusCode: StatusCodes.Status404NotFound)
                : Results.Ok(new { videoId, eventId, outcome = JsonNamingPolicy.SnakeCaseLower.ConvertName(outcome.ToString()) });
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Problems.Unavailable("No silo answered in time; the callback was not recorded. Send it again.");
        }
    }

    /// <summary>The raw body (the signature covers its exact bytes), or null when it is larger than the limit.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBody)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBody)
            {
                return null;
            }
        }

        return buffer.ToArray();
    }

    private static async Task<bool> ExistsAsync(NpgsqlDataSource db, Guid id, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT EXISTS (SELECT 1 FROM videos WHERE id = $1)");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
