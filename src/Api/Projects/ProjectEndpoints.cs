using System.Text;
using System.Text.Json;
using MediaActors.Api.Auth;
using MediaActors.Api.Idempotency;
using MediaActors.Providers.Ingestion;
using MediaActors.Grains.Projects;
using MediaActors.Providers.Storage;
using Npgsql;

namespace MediaActors.Api.Projects;

public sealed record CreateProjectRequest(string? Title, Guid? UploadId, string? Url);

/// <summary>Flow 1 through REST: create, list, read, cancel, retry, delete projects, and read their results.</summary>
public static class ProjectEndpoints
{
    public static void MapProjects(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/projects").RequireAuthorization().WithTags("Projects");
        group.MapPost("/", CreateAsync).WithIdempotencyKey();
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapGet("/{id:guid}/transcript", (Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct) => TranscriptAsync(id, "json", http, db, ct));
        group.MapGet("/{id:guid}/transcript.{format:regex(^(json|srt|vtt|txt|md)$)}", TranscriptAsync);
        group.MapGet("/{id:guid}/analysis", AnalysisAsync);
        group.MapGet("/{id:guid}/content", ContentAsync);
        group.MapPost("/{id:guid}/cancel", (Guid id, HttpContext http, IClusterClient cluster) => CommandAsync(id, http, cluster, g => g.Cancel()));
        group.MapPost("/{id:guid}/retry", RetryAsync);
        group.MapDelete("/{id:guid}", DeleteAsync);
    }

    private static async Task<IResult> CreateAsync(CreateProjectRequest request, HttpContext http, NpgsqlDataSource db, IClusterClient cluster,
        NetworkGuard guard, Microsoft.Extensions.Options.IOptions<LimitOptions> limits, CancellationToken cancellationToken)
    {
        var userId = http.User.UserId();
        var projectId = http.CreateId();
        // A retry that finds its project made already (Idempotency-Key) is not a new project in flight.
        if (await InFlightAsync(db, userId, cancellationToken) >= limits.Value.MaxProjectsInFlight && !await ExistsAsync(db, projectId, userId, cancellationToken))
        {
            http.Response.Headers.RetryAfter = "30";
            return Results.Problem(title: "Too many projects in flight.",
                detail: $"You have {limits.Value.MaxProjectsInFlight} projects uploading, queued or processing; wait for one to finish.",
                statusCode: StatusCodes.Status429TooManyRequests);
        }

        var title = request.Title?.Trim() ?? "";
        if (title.Length > 200 || title.Any(char.IsControl))
        {
            return Problems.BadRequest("title must be at most 200 characters, without control characters.");
        }

        if (RequestGuards.HasControlCharacters(request.Url))
        {
            return Problems.BadRequest("url must not contain control characters.");
        }

        if ((request.UploadId is null) == string.IsNullOrWhiteSpace(request.Url))
        {
            return Problems.BadRequest("Give exactly one of uploadId (a completed or running direct upload) or url (a video link).");
        }

        ProjectSource source;
        var uploadComplete = true;
        if (request.UploadId is { } uploadId)
        {
            // Linked to this project already when a retry with the same Idempotency-Key creates it again.
            await using var link = db.CreateCommand(
                "UPDATE uploads SET project_id = $3 WHERE id = $1 AND user_id = $2 AND (project_id IS NULL OR project_id = $3) AND status <> 'expired' RETURNING status, file_name");
            link.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = uploadId });
            link.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            link.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
            await using var reader = await link.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return await UploadStatusAsync(db, uploadId, userId, cancellationToken) switch
                {
                    null => Problems.NotFound("upload"),
                    "expired" => Problems.Gone(Uploads.UploadEndpoints.ExpiredDetail),
                    _ => Problems.Conflict("This upload already belongs to a project."),
                };
            }

            uploadComplete = reader.GetString(0) == "completed";
            if (title.Length == 0)
            {
                title = Path.GetFileNameWithoutExtension(reader.GetString(1));
            }

            source = new ProjectSource(ProjectSource.UploadKind, uploadId, null, null);
        }
        else
        {
            SourcePlatform platform;
            Uri url;
            try
            {
                (url, platform) = PlatformDetector.Parse(request.Url);
                // Refused addresses are answered now; the download step checks again on every connection and redirect.
                await guard.ResolveAsync(url.IdnHost, url.Port, cancellationToken);
            }
            catch (Providers.StepException ex) when (!ex.Transient)
            {
                return Problems.BadRequest(ex.Message);
            }
            catch (Providers.StepException)
            {
                // DNS trouble now is not a verdict on the link: the download step resolves it again and retries.
                (url, platform) = PlatformDetector.Parse(request.Url);
            }

            source = new ProjectSource(ProjectSource.UrlKind, null, url.ToString(), platform.ToString().ToLowerInvariant());
        }

        if (!Connected(http))
        {
            await UnlinkUploadAsync(db, projectId);
            return NoSilo();
        }

        ProjectView created;
        try
        {
            created = await cluster.GetGrain<IProjectGrain>(projectId).Create(new CreateProject(userId, title, source, uploadComplete));
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            // Most likely the call never reached a silo; release the upload again so that a retry can use it.
            await UnlinkUploadAsync(db, projectId);
            return Problems.Unavailable("No silo answered in time; the project was not created. Try again.");
        }

        return Results.Accepted($"/api/projects/{projectId}", ProjectReadModel.FromGrain(created));
    }

    private static async Task<IResult> ListAsync(HttpContext http, NpgsqlDataSource db, string? status, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var size = limit ?? 20;
        if (size is < 1 or > 100)
        {
            return Problems.BadRequest("limit must be between 1 and 100.");
        }

        if (status is not null && !Enum.GetNames<ProjectStatus>().Select(n => n.ToLowerInvariant()).Where(n => n is not "none" and not "deleted").Contains(status))
        {
            return Problems.BadRequest("status must be one of uploading, queued, processing, completed, failed, cancelled.");
        }

        (DateTime CreatedAt, Guid Id)? after = null;
        if (cursor is not null)
        {
            after = ProjectReadModel.DecodeCursor(cursor);
            if (after is null)
            {
                return Problems.BadRequest("cursor is not valid: pass the nextCursor of the previous page.");
            }
        }

        var (items, next) = await ProjectReadModel.ListAsync(db, http.User.UserId(), status, size, after, cancellationToken);
        return Results.Ok(new { items, nextCursor = next });
    }

    /// <summary>Answered by the project's grain (its state is the truth; the read model serves lists and search).</summary>
    private static async Task<IResult> GetAsync(Guid id, HttpContext http, IClusterClient cluster, BlobStore blobs)
    {
        if (!Connected(http))
        {
            return NoSilo();
        }

        ProjectView view;
        try
        {
            view = await cluster.GetGrain<IProjectGrain>(id).Get();
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            return Problems.Unavailable("No silo answered in time. Try again.");
        }

        if (!view.Exists || view.UserId != http.User.UserId())
        {
            return Problems.NotFound("project");
        }

        var project = ProjectReadModel.FromGrain(view);

        var expires = DateTimeOffset.UtcNow.AddHours(1);
        return Results.Ok(project with
        {
            ThumbnailUrl = project.ThumbnailBlob is { } thumb ? blobs.GetReadUri(Containers.Thumbnails, thumb, expires).ToString() : null,
            VideoUrl = project.VideoBlob is { } video && project.VideoContainer is { } container ? blobs.GetReadUri(container, video, expires).ToString() : null,
        });
    }

    private static async Task<IResult> TranscriptAsync(Guid id, string format, HttpContext http, NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        var userId = http.User.UserId();
        var transcript = await ProjectReadModel.TranscriptAsync(db, id, userId, cancellationToken);
        if (transcript is null)
        {
            if (await ProjectReadModel.GetAsync(db, id, userId, cancellationToken) is not { } project)
            {
                return Problems.NotFound("project");
            }

            // While the transcribing step runs (or after it stopped unfinished): the parts finished so far, in JSON only.
            var partial = format == "json" ? await ProjectReadModel.PartialTranscriptAsync(db, id, userId, cancellationToken) : null;
            if (partial is null && format == "json" && project.Step == "transcribing" && project.Status == "processing")
            {
                partial = new TranscriptView(id, "und", "", "", "", [], Partial: true) { Parts = 0 };
            }

            return partial is not null ? Results.Ok(partial) : Problems.NotFound("transcript yet (the project has not reached it)");
        }

        return format switch
        {
            "srt" => Results.Text(TranscriptFormats.Srt(transcript.Segments), "application/x-subrip; charset=utf-8", Encoding.UTF8),
            "vtt" => Results.Text(TranscriptFormats.Vtt(transcript.Segments), "text/vtt; charset=utf-8", Encoding.UTF8),
            "txt" => Results.Text(transcript.Text, "text/plain; charset=utf-8", Encoding.UTF8),
            "md" => Results.Text(TranscriptFormats.Markdown(transcript.Segments), "text/markdown; charset=utf-8", Encoding.UTF8),
            _ => Results.Ok(transcript),
        };
    }

    private static async Task<IResult> AnalysisAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken cancellationToken) =>
        await ProjectReadModel.JsonRowAsync(db,
            """
            SELECT json_build_object('projectId', project_id, 'summary', summary, 'topics', topics, 'sentiment',
                json_build_object('label', sentiment_label, 'score', sentiment_score), 'category', category,
                'provider', provider, 'model', model, 'createdAt', created_at)::text
            FROM analyses WHERE project_id = $1 AND user_id = $2
            """, id, http.User.UserId(), cancellationToken) is { } json
            ? Results.Text(json, "application/json")
            : Problems.NotFound("analysis for a project");

    private static async Task<IResult> ContentAsync(Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken cancellationToken) =>
        await ProjectReadModel.JsonRowAsync(db,
            """
            SELECT json_build_object('projectId', project_id, 'title', title, 'blogPost', blog_markdown, 'xThread', x_thread,
                'linkedInPost', linkedin_post, 'provider', provider, 'model', model, 'createdAt', created_at)::text
            FROM contents WHERE project_id = $1 AND user_id = $2
            """, id, http.User.UserId(), cancellationToken) is { } json
            ? Results.Text(json, "application/json")
            : Problems.NotFound("content for a project");

    private static async Task<IResult> RetryAsync(Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster)
    {
        // A project cancelled while it waited for its upload cannot start before the file is there.
        await using (var command = db.CreateCommand("SELECT id, status FROM uploads WHERE project_id = $1 AND user_id = $2"))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = http.User.UserId() });
            await using var reader = await command.ExecuteReaderAsync(http.RequestAborted);
            if (await reader.ReadAsync(http.RequestAborted))
            {
                var uploadId = reader.GetGuid(0);
                switch (reader.GetString(1))
                {
                    case "pending":
                        return Problems.Conflict($"The project's upload is not complete yet: upload the file, call POST /api/uploads/{uploadId}/complete, then retry.");
                    case "expired":
                        return Problems.Gone(Uploads.UploadEndpoints.ExpiredDetail);
                }
            }
        }

        return await CommandAsync(id, http, cluster, g => g.Retry());
    }

    private static async Task<IResult> CommandAsync(Guid id, HttpContext http, IClusterClient cluster, Func<IProjectGrain, Task<ProjectView>> command)
    {
        if (!Connected(http))
        {
            return NoSilo();
        }

        var grain = cluster.GetGrain<IProjectGrain>(id);
        try
        {
            var view = await grain.Get();
            if (!view.Exists || view.UserId != http.User.UserId())
            {
                return Problems.NotFound("project");
            }

            return Results.Ok(ProjectReadModel.FromGrain(await command(grain)));
        }
        catch (InvalidOperationException ex)
        {
            return Problems.Conflict(ex.Message);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            return Problems.Unavailable("No silo answered in time; nothing was changed. Try again.");
        }
    }

    private static async Task<IResult> DeleteAsync(Guid id, HttpContext http, IClusterClient cluster)
    {
        var result = await CommandAsync(id, http, cluster, g => g.Delete());
        return result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status200OK } ? Results.NoContent() : result;
    }

    private static bool Connected(HttpContext http) => http.RequestServices.GetRequiredService<ClusterConnection>().IsConnected;

    private static IResult NoSilo() => Problems.Unavailable("No silo is reachable yet (the cluster is starting or down). Try again shortly.");

    /// <summary>No silo answered (timeout, no gateway, silo gone): the caller may try again.</summary>
    private static bool IsUnavailable(Exception ex) => ex is TimeoutException or OrleansException;

    private static async Task<long> InFlightAsync(NpgsqlDataSource db, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT count(*) FROM projects WHERE user_id = $1 AND status IN ('uploading', 'queued', 'processing')");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<bool> ExistsAsync(NpgsqlDataSource db, Guid projectId, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1 AND user_id = $2)");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The upload's status, or null when the user has no such upload.</summary>
    private static async Task<string?> UploadStatusAsync(NpgsqlDataSource db, Guid uploadId, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT status FROM uploads WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = uploadId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static async Task UnlinkUploadAsync(NpgsqlDataSource db, Guid projectId)
    {
        await using var command = db.CreateCommand("UPDATE uploads SET project_id = NULL WHERE project_id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
        await command.ExecuteNonQueryAsync();
    }
}
