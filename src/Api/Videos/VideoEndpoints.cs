using System.Net.Mail;
using System.Text.Json;
using MediaActors.Api.Auth;
using MediaActors.Api.Idempotency;
using MediaActors.Api.Projects;
using MediaActors.Api.Realtime;
using MediaActors.Grains.Videos;
using MediaActors.Providers;
using MediaActors.Providers.Avatar;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Api.Videos;

/// <summary><c>POST /api/videos</c>: a video from a form (the generator writes the script from the prompt and the details).</summary>
public sealed record VideoFormRequest(
    string? Prompt, string? Avatar, string? Voice, string? Name, string? Position, string? CompanyName, string? License, string? TailoredFit,
    IReadOnlyList<string>? SocialHandles, string? VideoTopic, string? TopicKeyPoints, string? City, string? PreferredTone, string? CallToAction, string? Email);

/// <summary><c>POST /api/videos/generate</c>: a video from a script in three parts, each with its avatar (the body's by default).</summary>
public sealed record VideoScriptRequest(
    string? Hook, string? Body, string? Conclusion, string? CompanyName, IReadOnlyList<string>? SocialHandles, string? License, string? AvatarTitle,
    string? AvatarBody, string? AvatarConclusion, string? Email, string? Title, string? Voice);

/// <summary>
/// Flow 5 through REST: request an avatar video (a form or a script), follow it (events over the hub and SSE), the
/// gallery with short-lived download URLs, the workflow history, cancel, delete; a script from a processed project.
/// </summary>
public static class VideoEndpoints
{
    private static readonly string[] Tones = ["professional", "friendly", "energetic", "calm", "inspiring", "humorous", "authoritative"];

    public static void MapVideos(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/videos").RequireAuthorization().WithTags("Videos");
        group.MapPost("/", CreateFromFormAsync).WithIdempotencyKey();
        group.MapPost("/generate", CreateFromScriptAsync).WithIdempotencyKey();
        group.MapGet("/", (HttpContext http, NpgsqlDataSource db, BlobStore blobs, IOptions<AvatarOptions> options, string? status, int? limit, string? cursor,
            CancellationToken ct) => ListAsync(http, db, blobs, status == "all" ? null : status ?? "ready", history: false, limit, cursor, ct, options.Value.IsConfigured));
        group.MapGet("/history", (HttpContext http, NpgsqlDataSource db, BlobStore blobs, string? status, int? limit, string? cursor, CancellationToken ct) =>
            ListAsync(http, db, blobs, status, history: true, limit, cursor, ct, generatorConfigured: null));
        group.MapGet("/{id:guid}", async (Guid id, HttpContext http, NpgsqlDataSource db, BlobStore blobs, CancellationToken ct) =>
            await VideoReadModel.GetAsync(db, id, http.User.UserId(), ct) is { } video ? Results.Ok(WithUrl(video, blobs)) : Problems.NotFound("video"));
        group.MapPost("/{id:guid}/cancel", (Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, CancellationToken ct) =>
            CommandAsync(id, http, db, cluster, async g => Results.Ok(VideoReadModel.FromGrain(await g.Cancel())), ct));
        group.MapDelete("/{id:guid}", (Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, CancellationToken ct) =>
            CommandAsync(id, http, db, cluster, async g =>
            {
                await g.Delete();
                return Results.NoContent();
            }, ct));
        group.MapGroup("/{id:guid}/events").MapEvents(EventStreams.Video);
        group.MapCatalog();
        app.MapPost("/api/projects/{id:guid}/video-script", ScriptFromProjectAsync).RequireAuthorization().WithTags("Videos");
    }

    private static async Task<IResult> CreateFromFormAsync(VideoFormRequest request, HttpContext http, NpgsqlDataSource db, IClusterClient cluster,
        IOptions<AvatarOptions> options, CancellationToken cancellationToken)
    {
        if (!options.Value.IsConfigured)
        {
            return NotConfigured();
        }

        var errors = new Dictionary<string, string[]>();
        Text(errors, "prompt", request.Prompt, required: true, max: 2000);
        Text(errors, "name", request.Name, required: true, max: 100);
        Text(errors, "position", request.Position, required: false, max: 100);
        Text(errors, "companyName", request.CompanyName, required: false, max: 100);
        Text(errors, "license", request.License, required: false, max: 100);
        Text(errors, "tailoredFit", request.TailoredFit, required: false, max: 500);
        Text(errors, "topicKeyPoints", request.TopicKeyPoints, required: false, max: 2000);
        Text(errors, "city", request.City, required: false, max: 100);
        Text(errors, "callToAction", request.CallToAction, required: false, max: 300);
        Handles(errors, request.SocialHandles);
        Email(errors, request.Email, required: true);
        if (request.PreferredTone is { } tone && !Tones.Contains(tone))
        {
            errors["preferredTone"] = [$"One of {string.Join(", ", Tones)}."];
        }

        var avatar = await CatalogEntryAsync(db, "avatar_catalog", "avatar", request.Avatar, required: true, errors, cancellationToken);
        var voice = await CatalogEntryAsync(db, "voice_catalog", "voice", request.Voice, required: false, errors, cancellationToken);
        var topic = await CatalogEntryAsync(db, "topic_catalog", "videoTopic", request.VideoTopic, required: false, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return Problems.BadRequest("The video request is not valid: see errors.", errors);
        }

        voice ??= await VoiceForAsync(db, avatar!.Gender, cancellationToken);
        var normalized = new
        {
            prompt = request.Prompt!.Trim(),
            avatar = avatar!.Id,
            voice = voice?.Id,
            name = request.Name!.Trim(),
            position = request.Position?.Trim(),
            companyName = request.CompanyName?.Trim(),
            license = request.License?.Trim(),
            tailoredFit = request.TailoredFit?.Trim(),
            socialHandles = request.SocialHandles ?? [],
            videoTopic = topic?.Id,
            topicKeyPoints = request.TopicKeyPoints?.Trim(),
            city = request.City?.Trim(),
            preferredTone = request.PreferredTone ?? "professional",
            callToAction = request.CallToAction?.Trim(),
            email = request.Email!.Trim(),
        };
        var title = $"{normalized.name}: {topic?.Name ?? "avatar video"}";
        return await CreateAsync(http, db, cluster, options.Value, "prompt", title, JsonSerializer.Serialize(normalized, JsonDefaults.Options), avatar, voice,
            cancellationToken);
    }

    private static async Task<IResult> CreateFromScriptAsync(VideoScriptRequest request, HttpContext http, NpgsqlDataSource db, IClusterClient cluster,
        IOptions<AvatarOptions> options, CancellationToken cancellationToken)
    {
        if (!options.Value.IsConfigured)
        {
            return NotConfigured();
        }

        var errors = new Dictionary<string, string[]>();
        Text(errors, "title", request.Title, required: true, max: 100);
        Text(errors, "hook", request.Hook, required: true, max: 500);
        Text(errors, "body", request.Body, required: true, max: 3000);
        Text(errors, "conclusion", request.Conclusion, required: true, max: 500);
        Text(errors, "companyName", request.CompanyName, required: false, max: 100);
        Text(errors, "license", request.License, required: false, max: 100);
        Handles(errors, request.SocialHandles);
        Email(errors, request.Email, required: false);
        var body = await CatalogEntryAsync(db, "avatar_catalog", "avatarBody", request.AvatarBody, required: true, errors, cancellationToken);
        var opening = await CatalogEntryAsync(db, "avatar_catalog", "avatarTitle", request.AvatarTitle, required: false, errors, cancellationToken);
        var closing = await CatalogEntryAsync(db, "avatar_catalog", "avatarConclusion", request.AvatarConclusion, required: false, errors, cancellationToken);
        var voice = await CatalogEntryAsync(db, "voice_catalog", "voice", request.Voice, required: false, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return Problems.BadRequest("The script is not valid: see errors.", errors);
        }

        voice ??= await VoiceForAsync(db, body!.Gender, cancellationToken);
        var normalized = new
        {
            title = request.Title!.Trim(),
            hook = request.Hook!.Trim(),
            body = request.Body!.Trim(),
            conclusion = request.Conclusion!.Trim(),
            avatarTitle = (opening ?? body)!.Id,
            avatarBody = body!.Id,
            avatarConclusion = (closing ?? body).Id,
            voice = voice?.Id,
            companyName = request.CompanyName?.Trim(),
            socialHandles = request.SocialHandles ?? [],
            license = request.License?.Trim(),
            email = request.Email?.Trim(),
        };
        return await CreateAsync(http, db, cluster, options.Value, "script", normalized.title, JsonSerializer.Serialize(normalized, JsonDefaults.Options), body, voice,
            cancellationToken);
    }

    private static async Task<IResult> CreateAsync(HttpContext http, NpgsqlDataSource db, IClusterClient cluster, AvatarOptions options, string kind, string title,
        string requestJson, CatalogEntry? avatar, CatalogEntry? voice, CancellationToken cancellationToken)
    {
        var estimate = await VideoReadModel.RecentMedianAsync(db, cancellationToken) ?? options.DefaultEstimate;
        var id = http.CreateId();
        try
        {
            var view = await cluster.GetGrain<IVideoGrain>(id).Create(new CreateVideo(http.User.UserId(), kind, title, requestJson, avatar, voice,
                DateTimeOffset.UtcNow + estimate));
            return Results.Accepted($"/api/videos/{id}", VideoReadModel.FromGrain(view));
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Problems.Unavailable("No silo answered in time; the video was not requested. Try again.");
        }
    }

    /// <summary>The answer while no generator is configured.</summary>
    public static IResult NotConfigured() =>
        Results.Problem(title: "Avatar videos are not configured.", detail: AvatarOptions.HowToConfigure, statusCode: StatusCodes.Status503ServiceUnavailable);

    private static void Text(Dictionary<string, string[]> errors, string field, string? value, bool required, int max)
    {
        if (value is null || value.Trim().Length == 0)
        {
            if (required)
            {
                errors[field] = ["Required."];
            }

            return;
        }

        if (value.Length > max || value.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')))
        {
            errors[field] = [$"At most {max} characters, without control characters."];
        }
    }

    private static void Handles(Dictionary<string, string[]> errors, IReadOnlyList<string>? handles)
    {
        if (handles is not null && (handles.Count > 10 || handles.Any(h => string.IsNullOrWhiteSpace(h) || h.Length > 100 || h.Any(char.IsControl))))
        {
            errors["socialHandles"] = ["At most 10 handles of 1 to 100 characters."];
        }
    }

    private static void Email(Dictionary<string, string[]> errors, string? email, bool required)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            if (required)
            {
                errors["email"] = ["Required."];
            }

            return;
        }

        if (email.Length > 254 || !MailAddress.TryCreate(email.Trim(), out var parsed) || parsed.Address != email.Trim() || !parsed.Host.Contains('.'))
        {
            errors["email"] = ["Not an email address."];
        }
    }

    /// <summary>An active catalog entry by id (an error on the field when it is missing or unknown).</summary>
    private static async Task<CatalogEntry?> CatalogEntryAsync(NpgsqlDataSource db, string table, string field, string? id, bool required,
        Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            if (required)
            {
                errors[field] = ["Required: an id from the catalog."];
            }

            return null;
        }

        var gender = table == "topic_catalog" ? "NULL" : "gender";
        await using var command = db.CreateCommand($"SELECT id, name, {gender} FROM {table} WHERE id = $1 AND active");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken))
        {
            return new CatalogEntry(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        }

        errors[field] = [$"'{(id.Length > 50 ? id[..50] : id)}' is not in the catalog (GET /api/videos/{field switch { "voice" => "voices", "videoTopic" => "topics", _ => "avatars" }})."];
        return null;
    }

    /// <summary>The voice matching the avatar's gender (a neutral one, then any, when the catalog has none).</summary>
    private static async Task<CatalogEntry?> VoiceForAsync(NpgsqlDataSource db, string? gender, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT id, name, gender FROM voice_catalog WHERE active ORDER BY (gender = $1) DESC, (gender = 'neutral') DESC, id LIMIT 1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = gender ?? "neutral" });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new CatalogEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    private static async Task<IResult> ListAsync(HttpContext http, NpgsqlDataSource db, BlobStore blobs, string? status, bool history, int? limit, string? cursor,
        CancellationToken cancellationToken, bool? generatorConfigured)
    {
        if (status is not null && !Enum.GetValues<VideoStatus>().Where(s => s is not (VideoStatus.None or VideoStatus.Deleted))
                .Select(s => JsonNamingPolicy.SnakeCaseLower.ConvertName(s.ToString())).Contains(status))
        {
            return Problems.BadRequest("status must be one of pending, processing, ready, failed, cancelled.");
        }

        if (limit is < 1 or > 100)
        {
            return Problems.BadRequest("limit must be between 1 and 100.");
        }

        var after = cursor is null ? null : ProjectReadModel.DecodeCursor(cursor);
        if (cursor is not null && after is null)
        {
            return Problems.BadRequest("cursor is not valid: pass the nextCursor of the previous page.");
        }

        var (items, next) = await VideoReadModel.ListAsync(db, http.User.UserId(), status, withRequest: history, limit ?? 20, after, cancellationToken);
        // The gallery also says whether new videos can be requested (a client hides its form otherwise).
        return generatorConfigured is { } configured
            ? Results.Ok(new { items = items.Select(v => WithUrl(v, blobs)).ToList(), nextCursor = next, generatorConfigured = configured })
            : Results.Ok(new { items, nextCursor = next });
    }

    /// <summary>A ready video with a read-only URL of its file for 15 minutes.</summary>
    private static VideoResponse WithUrl(VideoResponse video, BlobStore blobs)
    {
        if (video.Status != "ready" || video.BlobContainer is not { } container || video.BlobName is not { } name)
        {
            return video;
        }

        var expires = DateTimeOffset.UtcNow.AddMinutes(15);
        return video with { DownloadUrl = blobs.GetReadUri(container, name, expires).ToString(), DownloadUrlExpiresAt = expires };
    }

    private static async Task<IResult> CommandAsync(Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, Func<IVideoGrain, Task<IResult>> command,
        CancellationToken cancellationToken)
    {
        if (await VideoReadModel.GetAsync(db, id, http.User.UserId(), cancellationToken) is null)
        {
            return Problems.NotFound("video");
        }

        try
        {
            return await command(cluster.GetGrain<IVideoGrain>(id));
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Problems.Unavailable("No silo answered in time. Try again.");
        }
    }

    /// <summary>
    /// A hook, body and conclusion from a processed project's content, extractively: the opening of its thread (or its
    /// title) hooks, its summary is the body, and the conclusion points at its main topic.
    /// </summary>
    private static async Task<IResult> ScriptFromProjectAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            SELECT c.title, c.x_thread::text, a.summary, a.topics::text FROM contents c JOIN analyses a ON a.project_id = c.project_id
            WHERE c.project_id = $1 AND c.user_id = $2
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = http.User.UserId() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return Problems.NotFound("processed project (its content is made when it completes)");
        }

        var title = reader.GetString(0);
        var thread = JsonSerializer.Deserialize<List<string>>(reader.GetString(1)) ?? [];
        var summary = reader.GetString(2);
        var topics = JsonSerializer.Deserialize<List<string>>(reader.GetString(3)) ?? [];
        var hook = Cut(thread.FirstOrDefault(t => !string.IsNullOrWhiteSpace(t)) ?? title, 500);
        var conclusion = topics.Count > 0
            ? $"Want to know more about {topics[0]}? Follow us for the full story."
            : "Want to know more? Follow us for the full story.";
        return Results.Ok(new { projectId = id, title = Cut(title, 100), hook, body = Cut(summary, 3000), conclusion });
    }

    private static string Cut(string text, int max) => text.Length <= max ? text.Trim() : text[..max].TrimEnd();
}
