using System.Text.Json;
using MediaActors.Providers;
using MediaActors.Providers.Content;
using MediaActors.Providers.Transcription;
using Npgsql;
using NpgsqlTypes;

namespace MediaActors.Grains.Projects;

/// <summary>The project grain's writes outside its own state, and the one read it needs (its upload's status).</summary>
public interface IProjectStore
{
    /// <summary>Writes the project's read-model row (or removes a deleted project's rows) and its pending events, in one transaction.</summary>
    Task FlushAsync(Guid projectId, ProjectState state, CancellationToken cancellationToken = default);

    Task SaveTranscriptAsync(Guid projectId, string userId, Transcript transcript, CancellationToken cancellationToken = default);

    Task SaveAnalysisAsync(Guid projectId, string userId, Analysis analysis, CancellationToken cancellationToken = default);

    Task SaveContentAsync(Guid projectId, string userId, GeneratedContent content, CancellationToken cancellationToken = default);

    /// <summary>Replaces the project's search passages.</summary>
    Task SaveChunksAsync(Guid projectId, string userId, EmbedOutput embeddings, CancellationToken cancellationToken = default);

    /// <summary>The status of an upload ('pending', 'completed', 'expired') and when its URL expires, or null if there is no such upload.</summary>
    Task<(string Status, DateTimeOffset ExpiresAt)?> UploadStatusAsync(Guid uploadId, CancellationToken cancellationToken = default);
}

/// <summary>
/// <see cref="IProjectStore"/> on PostgreSQL: the project grain's writes outside its own state: result rows (upserts keyed by project), the read-model row
/// (replaced only by a higher state version) and the event log (keyed by project and sequence number, with a NOTIFY
/// to the API hosts). Every write is idempotent, so the grain may repeat any of them after a crash.
/// </summary>
public sealed class ProjectStore(NpgsqlDataSource dataSource) : IProjectStore
{
    /// <summary>The channel API hosts LISTEN to for live events.</summary>
    public const string EventChannel = "ma_events";

    // NOTIFY payloads are limited to 8000 bytes: a larger event is announced without its payload and read from the table.
    private const int MaxInlinePayload = 7000;

    /// <summary>Writes the project's read-model row and its pending events in one transaction.</summary>
    public async Task FlushAsync(Guid projectId, ProjectState state, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var batch = new NpgsqlBatch(connection, transaction);
        await using (batch)
        {
            if (state.Status == ProjectStatus.Deleted)
            {
                batch.BatchCommands.Add(Command("UPDATE uploads SET project_id = NULL WHERE project_id = $1", projectId));
                batch.BatchCommands.Add(Command("DELETE FROM projects WHERE id = $1", projectId));
            }
            else
            {
                batch.BatchCommands.Add(ProjectRow(projectId, state));
                if (state.Partial is { } partial)
                {
                    AppendParts(batch, projectId, state.UserId, partial);
                }
            }

            AppendEvents(batch, projectId, state.Outbox);
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Adds the inserts of a grain's pending events (its stream: a project or a publish job) to <paramref name="batch"/>, each
    /// with a NOTIFY to the API hosts sent only if the insert happened, so a re-sent event reaches no client twice.
    /// </summary>
    internal static void AppendEvents(NpgsqlBatch batch, Guid streamId, IEnumerable<OutboxEvent> events)
    {
        foreach (var e in events)
        {
            var inline = e.Payload.Length <= MaxInlinePayload;
            var notification = JsonSerializer.Serialize(new
            {
                projectId = streamId,
                seq = e.Seq,
                kind = e.Kind,
                payload = inline ? JsonDocument.Parse(e.Payload).RootElement : (JsonElement?)null,
                at = e.At,
            });
            batch.BatchCommands.Add(Command(
                """
                WITH inserted AS (
                    INSERT INTO project_events (project_id, seq, kind, payload, created_at) VALUES ($1, $2, $3, $4::jsonb, $5)
                    ON CONFLICT (project_id, seq) DO NOTHING RETURNING seq)
                SELECT pg_notify($6, $7) FROM inserted
                """,
                streamId, e.Seq, e.Kind, e.Payload, e.At.UtcDateTime, EventChannel, notification));
            if (Notifications.For(e) is { } note)
            {
                batch.BatchCommands.Add(Command(
                    """
                    INSERT INTO notifications (user_id, subject_kind, subject_id, seq, kind, title, message, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (subject_id, seq) DO NOTHING
                    """,
                    note.UserId, note.SubjectKind, streamId, e.Seq, e.Kind, note.Title, note.Message, e.At.UtcDateTime));
            }
        }
    }

    /// <summary>The live transcript's parts not yet written (after the rows of an earlier plan are dropped, if asked); a part written before is kept.</summary>
    private static void AppendParts(NpgsqlBatch batch, Guid projectId, string userId, PartialTranscript partial)
    {
        if (partial.Clear)
        {
            batch.BatchCommands.Add(Command("DELETE FROM transcript_parts WHERE project_id = $1", projectId));
        }

        foreach (var part in partial.Pending)
        {
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO transcript_parts (project_id, idx, user_id, plan, parts, start_s, end_s, text, language, segments)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb) ON CONFLICT (project_id, idx) DO NOTHING
                """,
                projectId, part.Index, userId, part.Plan, part.Count, part.Start, part.End, part.Text, part.Language, Json(part.Segments)));
        }
    }

    private static NpgsqlBatchCommand ProjectRow(Guid projectId, ProjectState state)
    {
        var steps = Enum.GetValues<ProjectStep>().Where(state.Steps.ContainsKey).Select(s => new
        {
            name = s,
            state.Steps[s].Status,
            state.Steps[s].Attempts,
            state.Steps[s].StartedAt,
            state.Steps[s].FinishedAt,
            state.Steps[s].Error,
            state.Steps[s].Provider,
        });
        return Command(
            """
            INSERT INTO projects (id, user_id, title, status, step, progress, error, source, media, video_blob, thumbnail_blob, steps, created_at, updated_at, version,
                event_seq, size_bytes)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12::jsonb, $13, $14, $15, $16, $17)
            ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status, step = excluded.step, progress = excluded.progress,
                error = excluded.error, media = excluded.media, video_blob = excluded.video_blob, thumbnail_blob = excluded.thumbnail_blob,
                steps = excluded.steps, updated_at = excluded.updated_at, version = excluded.version, event_seq = excluded.event_seq,
                size_bytes = excluded.size_bytes
            WHERE projects.version < excluded.version
            """,
            projectId, state.UserId, state.Title, Name(state.Status), state.Step is { } step ? Name(step) : null, state.Progress, state.Error,
            Json(state.Source), state.Media is null ? null : Json(state.Media), state.Video is { } video ? $"{video.Container}/{video.Name}" : null,
            state.Thumbnail?.Name, Json(steps), state.CreatedAt.UtcDateTime, state.UpdatedAt.UtcDateTime, state.Version, state.EventSeq,
            state.SizeBytes is > 0 ? state.SizeBytes : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
    }

    /// <summary>Writes the transcript and drops the rows of its live parts, in one transaction.</summary>
    public async Task SaveTranscriptAsync(Guid projectId, string userId, Transcript transcript, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            batch.BatchCommands.Add(Command(
                """
                INSERT INTO transcripts (project_id, user_id, language, text, provider, model, segments) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
                ON CONFLICT (project_id) DO UPDATE SET language = excluded.language, text = excluded.text, provider = excluded.provider,
                    model = excluded.model, segments = excluded.segments, created_at = now()
                """,
                projectId, userId, transcript.Language, transcript.Text, transcript.Provider, transcript.Model, Json(transcript.Segments)));
            batch.BatchCommands.Add(Command("DELETE FROM transcript_parts WHERE project_id = $1", projectId));
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public Task SaveAnalysisAsync(Guid projectId, string userId, Analysis analysis, CancellationToken cancellationToken = default) =>
        ExecuteAsync(
            """
            INSERT INTO analyses (project_id, user_id, summary, topics, sentiment_label, sentiment_score, category, provider, model)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9)
            ON CONFLICT (project_id) DO UPDATE SET summary = excluded.summary, topics = excluded.topics, sentiment_label = excluded.sentiment_label,
                sentiment_score = excluded.sentiment_score, category = excluded.category, provider = excluded.provider, model = excluded.model, created_at = now()
            """,
            cancellationToken, projectId, userId, analysis.Summary, Json(analysis.Topics), analysis.SentimentLabel, analysis.SentimentScore,
            analysis.Category, analysis.Provider, analysis.Model);

    public Task SaveContentAsync(Guid projectId, string userId, GeneratedContent content, CancellationToken cancellationToken = default) =>
        ExecuteAsync(
            """
            INSERT INTO contents (project_id, user_id, title, blog_markdown, x_thread, linkedin_post, provider, model)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)
            ON CONFLICT (project_id) DO UPDATE SET title = excluded.title, blog_markdown = excluded.blog_markdown, x_thread = excluded.x_thread,
                linkedin_post = excluded.linkedin_post, provider = excluded.provider, model = excluded.model, created_at = now()
            """,
            cancellationToken, projectId, userId, content.Title, content.BlogPostMarkdown, Json(content.XThread), content.LinkedInPost, content.Provider, content.Model);

    /// <summary>Replaces the project's search passages in one transaction.</summary>
    public async Task SaveChunksAsync(Guid projectId, string userId, EmbedOutput embeddings, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            batch.BatchCommands.Add(Command("DELETE FROM transcript_chunks WHERE project_id = $1", projectId));
            foreach (var chunk in embeddings.Chunks)
            {
                batch.BatchCommands.Add(Command(
                    "INSERT INTO transcript_chunks (project_id, idx, user_id, start_s, end_s, text, embedding, provider, model) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    projectId, chunk.Index, userId, chunk.Start, chunk.End, chunk.Text, chunk.Embedding, embeddings.Provider, embeddings.Model));
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The status of the project's upload ('pending', 'completed', 'expired'), or null if it has none.</summary>
    public async Task<(string Status, DateTimeOffset ExpiresAt)?> UploadStatusAsync(Guid uploadId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT status, expires_at FROM uploads WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = uploadId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero)) : null;
    }

    public static string Name<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    internal static string Json<T>(T value) => JsonSerializer.Serialize(value, JsonDefaults.Options);

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params object?[] values)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(Parameter(value));
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(Parameter(value));
        }

        return command;
    }

    // Nulls need a type for PostgreSQL to infer the parameter: text, unless the caller passes a typed parameter.
    private static NpgsqlParameter Parameter(object? value) => value switch
    {
        null => new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
        NpgsqlParameter given => given,
        _ => new NpgsqlParameter { Value = value },
    };
}
