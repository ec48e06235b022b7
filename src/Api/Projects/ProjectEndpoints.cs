using System.Text;
using System.Text.Json;
using MediaActors.Api.Auth;
using MediaActors.Providers.Ingestion;
using MediaActors.Grains.Projects;
using MediaActors.Providers.Storage;
using MediaActors.Runtime;
using Npgsql;

namespace MediaActors.Api.Projects;

public sealed record CreateProjectRequest(string? Title, Guid? UploadId, string? Url);

/// <summary>Flow 1 through REST: create, list, read, cancel, retry, delete projects, and read their results.</summary>
public static class ProjectEndpoints
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    public static void MapProjects(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/projects").RequireAuthorization().WithTags("Projects");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapGet("/{id:guid}/transcript", (Guid id, HttpContext http, NpgsqlDataSource db, CancellationToken ct) => TranscriptAsync(id, "json", http, db, ct));
        group.MapGet("/{id:guid}/transcript.{format:regex(^(json|srt|vtt|txt)$)}", TranscriptAsync);
        group.MapGet("/{id:guid}/analysis", AnalysisAsync);
        group.MapGet("/{id:guid}/content", ContentAsync);
        group.MapPost("/{id:guid}/cancel", (Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster) =>
            CommandAsync(id, http, db, cluster, g => g.Cancel()));
        group.MapPost("/{id:guid}/retry", RetryAsync);
        group.MapDelete("/{id:guid}", DeleteAsync);
    }

    private static async Task<IResult> CreateAsync(CreateProjectRequest request, HttpContext http, NpgsqlDataSource db, IClusterClient cluster,
        NetworkGuard guard, Microsoft.Extensions.Options.IOptions<LimitOptions> limits, CancellationToken cancellationToken)
    {
        var userId = http.User.UserId();
        if (await InFlightAsync(db, userId, cancellationToken) >= limits.Value.MaxProjectsInFlight)
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

        var projectId = Guid.CreateVersion7();
        ProjectSource source;
        var uploadComplete = true;
        if (request.UploadId is { } uploadId)
        {
            await using var link = db.CreateCommand(
                "UPDATE uploads SET project_id = $3 WHERE id = $1 AND user_id = $2 AND project_id IS NULL AND status <> 'expired' RETURNING status, file_name");
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

        ProjectSnapshot snapshot;
        try
        {
            snapshot = await cluster.WithTimeout(CallTimeout).GetGrain<IProjectGrain>(projectId.ToString())
                .Create(new CreateProject(userId, title, source, uploadComplete));
        }
        catch (TimeoutException)
        {
            // The request expires unprocessed, so the project will never exist: release the upload again.
            await UnlinkUploadAsync(db, projectId);
            return Problems.Unavailable("No silo answered in time; the project was not created. Try again.");
        }

        var project = await ProjectReadModel.GetAsync(db, projectId, userId, cancellationToken);
        return Results.Accepted($"/api/projects/{projectId}", project ?? (object)snapshot);
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

    private static async Task<IResult> GetAsync(Guid id, HttpContext http, NpgsqlDataSource db, BlobStore blobs, CancellationToken cancellationToken)
    {
        var project = await ProjectReadModel.GetAsync(db, id, http.User.UserId(), cancellationToken);
        if (project is null)
        {
            return Problems.NotFound("project");
        }

        var expires = DateTimeOffset.UtcNow.AddHours(1);
        return Results.Ok(project with
        {
            ThumbnailUrl = project.ThumbnailBlob is { } thumb ? blobs.GetReadUri(Containers.Thumbnails, thumb, expires).ToString() : null,
            VideoUrl = project.VideoBlob is { } video && project.VideoContainer is { } container ? blobs.GetReadUri(container, video, expires).ToString() : null,
        });
    }

    private static async Task<IResult> TranscriptAsync(Guid id, string format, HttpContext http, NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        var transcript = await ProjectReadModel.TranscriptAsync(db, id, http.User.UserId(), cancellationToken);
        if (transcript is null)
        {
            return await ProjectReadModel.GetAsync(db, id, http.User.UserId(), cancellationToken) is null
                ? Problems.NotFound("project")
                : Problems.NotFound("transcript yet (the project has not reached it)");
        }

        return format switch
        {
            "srt" => Results.Text(TranscriptFormats.Srt(transcript.Segments), "application/x-subrip; charset=utf-8", Encoding.UTF8),
            "vtt" => Results.Text(TranscriptFormats.Vtt(transcript.Segments), "text/vtt; charset=utf-8", Encoding.UTF8),
            "txt" => Results.Text(transcript.Text, "text/plain; charset=utf-8", Encoding.UTF8),
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

        return await CommandAsync(id, http, db, cluster, g => g.Retry());
    }

    private static async Task<IResult> CommandAsync(Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster, Func<IProjectGrain, Task<ProjectSnapshot>> command)
    {
        var userId = http.User.UserId();
        if (await ProjectReadModel.GetAsync(db, id, userId, http.RequestAborted) is null)
        {
            return Problems.NotFound("project");
        }

        try
        {
            await command(cluster.WithTimeout(CallTimeout).GetGrain<IProjectGrain>(id.ToString()));
        }
        catch (GrainCallException ex)
        {
            return Problems.Conflict(ex.Message.Replace("InvalidOperationException: ", "", StringComparison.Ordinal));
        }
        catch (TimeoutException)
        {
            return Problems.Unavailable("No silo answered in time; nothing was changed. Try again.");
        }

        return Results.Ok(await ProjectReadModel.GetAsync(db, id, userId, http.RequestAborted));
    }

    private static async Task<IResult> DeleteAsync(Guid id, HttpContext http, NpgsqlDataSource db, IClusterClient cluster)
    {
        if (await ProjectReadModel.GetAsync(db, id, http.User.UserId(), http.RequestAborted) is null)
        {
            return Problems.NotFound("project");
        }

        try
        {
            await cluster.WithTimeout(CallTimeout).GetGrain<IProjectGrain>(id.ToString()).Delete();
        }
        catch (TimeoutException)
        {
            return Problems.Unavailable("No silo answered in time; nothing was deleted. Try again.");
        }

        return Results.NoContent();
    }

    private static async Task<long> InFlightAsync(NpgsqlDataSource db, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT count(*) FROM projects WHERE user_id = $1 AND status IN ('uploading', 'queued', 'processing')");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
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
