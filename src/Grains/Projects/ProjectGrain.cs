using System.Text.Json;
using MediaActors.Providers.Content;
using MediaActors.Providers.Transcription;
using MediaActors.Runtime;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Projects;

/// <summary>Retry policy of the project pipeline (section "Projects").</summary>
public sealed class ProjectOptions
{
    /// <summary>Tries of one step whose failures are transient, before the project fails.</summary>
    public int MaxStepAttempts { get; set; } = 4;

    /// <summary>Backoff before the first retry; doubled each time.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// A video project. Each step runs as a work item; its result comes back here, is written to the read model
/// in the same transaction, and starts the next step. Transient failures retry the step after a backoff
/// reminder; permanent ones fail the project, which a retry resumes from the failed step.
/// </summary>
public sealed class ProjectGrain(IOptions<ProjectOptions> options) : Grain<ProjectState>, IProjectGrain
{
    private const string RetryReminder = "retry-step";
    private static readonly ProjectStep[] Order = Enum.GetValues<ProjectStep>();

    // Where each step's progress lies within 0-100.
    private static readonly Dictionary<ProjectStep, (int Start, int End)> Ranges = new()
    {
        [ProjectStep.Downloading] = (0, 10),
        [ProjectStep.ExtractingAudio] = (10, 20),
        [ProjectStep.Uploading] = (20, 25),
        [ProjectStep.Transcribing] = (25, 70),
        [ProjectStep.Analyzing] = (70, 80),
        [ProjectStep.GeneratingContent] = (80, 90),
        [ProjectStep.GeneratingEmbeddings] = (90, 97),
        [ProjectStep.Storing] = (97, 100),
    };

    private readonly ProjectOptions _options = options.Value;

    public Task<ProjectSnapshot> Create(CreateProject command)
    {
        if (State.Status != ProjectStatus.None)
        {
            return Task.FromResult(Snapshot());
        }

        State.UserId = command.UserId;
        State.Title = command.Title;
        State.Source = command.Source;
        State.CreatedAt = Context.Now;
        State.Steps = Order.ToDictionary(s => s, _ => new StepRecord());
        // The upload may have completed (and said so) before this call arrived.
        var ready = command.UploadComplete || State.UploadReady;
        State.Status = ready ? ProjectStatus.Queued : ProjectStatus.Uploading;
        Save("created");
        if (ready)
        {
            StartStep(ProjectStep.Downloading);
        }
        else if (State.UploadExpiredAt is { } expiredAt)
        {
            // The expiry was said before this call arrived.
            Fail(ProjectStep.Downloading, UploadExpiredMessage(expiredAt));
        }

        return Task.FromResult(Snapshot());
    }

    public Task UploadExpired(DateTimeOffset expiredAt)
    {
        if (State.Status == ProjectStatus.None)
        {
            State.UploadExpiredAt = expiredAt;
        }
        else if (State.Status == ProjectStatus.Uploading)
        {
            Fail(ProjectStep.Downloading, UploadExpiredMessage(expiredAt));
        }

        return Task.CompletedTask;
    }

    private static string UploadExpiredMessage(DateTimeOffset expiredAt) =>
        $"The upload was not completed before it expired ({expiredAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC); its file was deleted. Create a new upload and a new project.";

    public Task<ProjectSnapshot> UploadCompleted()
    {
        if (State.Status == ProjectStatus.None)
        {
            State.UploadReady = true;
        }
        else if (State.Status == ProjectStatus.Uploading)
        {
            State.Status = ProjectStatus.Queued;
            Save("status_changed");
            StartStep(ProjectStep.Downloading);
        }

        return Task.FromResult(Snapshot());
    }

    public Task<ProjectSnapshot> Cancel()
    {
        if (State.Status is ProjectStatus.Uploading or ProjectStatus.Queued or ProjectStatus.Processing)
        {
            StopCurrentWork();
            if (State.Step is { } step && State.Steps[step].Status == "running")
            {
                State.Steps[step].Status = "cancelled";
                State.Steps[step].FinishedAt = Context.Now;
            }

            State.PendingStep = State.Step ?? ProjectStep.Downloading;
            State.Status = ProjectStatus.Cancelled;
            Save("cancelled");
        }

        return Task.FromResult(Snapshot());
    }

    public Task<ProjectSnapshot> Retry()
    {
        if (State.Status is not (ProjectStatus.Failed or ProjectStatus.Cancelled))
        {
            throw new InvalidOperationException($"Only a failed or cancelled project can be retried; this one is {State.Status.ToString().ToLowerInvariant()}.");
        }

        var step = State.PendingStep ?? ProjectStep.Downloading;
        State.Error = null;
        State.Steps[step].Attempts = 0;
        State.Steps[step].Error = null;
        StartStep(step);
        return Task.FromResult(Snapshot());
    }

    public Task<ProjectSnapshot> Delete()
    {
        if (State.Status is ProjectStatus.None or ProjectStatus.Deleted)
        {
            return Task.FromResult(Snapshot());
        }

        StopCurrentWork();
        var blobs = new[] { State.Video, State.Audio, State.CompressedAudio, State.Thumbnail }.OfType<BlobRef>().ToList();
        State.Status = ProjectStatus.Deleted;
        State.UpdatedAt = Context.Now;
        // The rows go now, in this turn; the blobs go in the background (a retried cleanup is harmless).
        Context.Execute("DELETE FROM projects WHERE id = $1", Guid.Parse(Key));
        Context.Execute("UPDATE uploads SET project_id = NULL WHERE project_id = $1", Guid.Parse(Key));
        Context.StartWork(WorkKinds.Cleanup, new CleanupPayload(Key, blobs), tag: "cleanup", maxAttempts: 5);
        Context.Publish("deleted", Event());
        return Task.FromResult(Snapshot());
    }

    public Task<ProjectSnapshot> Get() => Task.FromResult(Snapshot());

    public override Task OnReminder(string name)
    {
        if (name == RetryReminder && State.Status == ProjectStatus.Processing && State.CurrentWork is null && State.PendingStep is { } step)
        {
            StartStep(step);
        }

        return Task.CompletedTask;
    }

    public override Task OnWorkProgress(WorkProgress progress)
    {
        if (progress.ItemId != State.CurrentWork || State.Step is not { } step)
        {
            return Task.CompletedTask;
        }

        // The media worker does two steps: its "uploading" note moves the project on.
        if (progress.Note == "uploading" && step == ProjectStep.ExtractingAudio)
        {
            CompleteStep(step, provider: "ffmpeg");
            step = ProjectStep.Uploading;
            BeginStep(step);
            State.Steps[step].Attempts++;
        }

        var (start, end) = Ranges[step];
        var value = start + (int)Math.Floor((end - start) * Math.Clamp(progress.Fraction, 0, 1));
        if (value > State.Progress)
        {
            State.Progress = value;
            Save("progress");
        }

        return Task.CompletedTask;
    }

    public override Task OnWorkCompleted(WorkResult result)
    {
        if (result.Tag == "cleanup")
        {
            return Task.CompletedTask;
        }

        if (result.ItemId != State.CurrentWork || State.Status != ProjectStatus.Processing || State.Step is not { } step)
        {
            // A result of work that was cancelled or superseded.
            return Task.CompletedTask;
        }

        State.CurrentWork = null;
        switch (result.Status)
        {
            case WorkStatus.Succeeded:
                Apply(step, result.Output!.Value);
                break;
            case WorkStatus.Failed when result.Retryable && State.Steps[step].Attempts < _options.MaxStepAttempts:
                var backoff = TimeSpan.FromTicks(Math.Min(_options.RetryBackoff.Ticks << (State.Steps[step].Attempts - 1), _options.MaxRetryBackoff.Ticks));
                State.Steps[step].Error = result.Error;
                State.PendingStep = step;
                Context.SetReminder(RetryReminder, backoff);
                Context.Publish("retry_scheduled", new { projectId = Key, userId = State.UserId, step, attempt = State.Steps[step].Attempts, error = result.Error, retryInSeconds = backoff.TotalSeconds });
                Save(null);
                break;
            default:
                Fail(step, result.Error ?? "The step failed.");
                break;
        }

        return Task.CompletedTask;
    }

    private void Apply(ProjectStep step, JsonElement output)
    {
        var projectId = Guid.Parse(Key);
        switch (step)
        {
            case ProjectStep.Downloading:
                var ingest = Read<IngestOutput>(output);
                State.Video = ingest.Video;
                State.SizeBytes = ingest.SizeBytes;
                State.Md5 = ingest.Md5;
                if (string.IsNullOrWhiteSpace(State.Title) && !string.IsNullOrWhiteSpace(ingest.Title))
                {
                    State.Title = ingest.Title.Length > 200 ? ingest.Title[..200] : ingest.Title;
                }

                CompleteStep(step, State.Source?.Platform ?? State.Source?.Kind);
                StartStep(ProjectStep.ExtractingAudio);
                break;
            case ProjectStep.ExtractingAudio or ProjectStep.Uploading:
                var media = Read<MediaOutput>(output);
                State.Media = media.Media;
                State.Audio = media.Audio;
                State.CompressedAudio = media.CompressedAudio;
                State.Thumbnail = media.Thumbnail;
                if (step == ProjectStep.ExtractingAudio)
                {
                    CompleteStep(step, "ffmpeg");
                }

                CompleteStep(ProjectStep.Uploading, "blob");
                StartStep(ProjectStep.Transcribing);
                break;
            case ProjectStep.Transcribing:
                var transcript = Read<Transcript>(output);
                Context.Execute(
                    """
                    INSERT INTO transcripts (project_id, user_id, language, text, provider, model, segments) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
                    ON CONFLICT (project_id) DO UPDATE SET language = excluded.language, text = excluded.text, provider = excluded.provider,
                        model = excluded.model, segments = excluded.segments, created_at = now()
                    """,
                    projectId, State.UserId, transcript.Language, transcript.Text, transcript.Provider, transcript.Model,
                    JsonSerializer.Serialize(transcript.Segments, RuntimeJson.Options));
                CompleteStep(step, $"{transcript.Provider}/{transcript.Model}");
                Context.Publish("transcript_ready", new { projectId = Key, userId = State.UserId, segments = transcript.Segments.Count, provider = transcript.Provider });
                StartStep(ProjectStep.Analyzing);
                break;
            case ProjectStep.Analyzing:
                var analysis = Read<Analysis>(output);
                Context.Execute(
                    """
                    INSERT INTO analyses (project_id, user_id, summary, topics, sentiment_label, sentiment_score, category, provider, model)
                    VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9)
                    ON CONFLICT (project_id) DO UPDATE SET summary = excluded.summary, topics = excluded.topics, sentiment_label = excluded.sentiment_label,
                        sentiment_score = excluded.sentiment_score, category = excluded.category, provider = excluded.provider, model = excluded.model, created_at = now()
                    """,
                    projectId, State.UserId, analysis.Summary, JsonSerializer.Serialize(analysis.Topics, RuntimeJson.Options), analysis.SentimentLabel,
                    analysis.SentimentScore, analysis.Category, analysis.Provider, analysis.Model);
                CompleteStep(step, $"{analysis.Provider}/{analysis.Model}");
                StartStep(ProjectStep.GeneratingContent);
                break;
            case ProjectStep.GeneratingContent:
                var content = Read<GeneratedContent>(output);
                Context.Execute(
                    """
                    INSERT INTO contents (project_id, user_id, title, blog_markdown, x_thread, linkedin_post, provider, model)
                    VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)
                    ON CONFLICT (project_id) DO UPDATE SET title = excluded.title, blog_markdown = excluded.blog_markdown, x_thread = excluded.x_thread,
                        linkedin_post = excluded.linkedin_post, provider = excluded.provider, model = excluded.model, created_at = now()
                    """,
                    projectId, State.UserId, content.Title, content.BlogPostMarkdown, JsonSerializer.Serialize(content.XThread, RuntimeJson.Options),
                    content.LinkedInPost, content.Provider, content.Model);
                CompleteStep(step, $"{content.Provider}/{content.Model}");
                Context.Publish("content_ready", new { projectId = Key, userId = State.UserId, title = content.Title });
                StartStep(ProjectStep.GeneratingEmbeddings);
                break;
            case ProjectStep.GeneratingEmbeddings:
                var embeddings = Read<EmbedOutput>(output);
                CompleteStep(step, $"{embeddings.Provider}/{embeddings.Model}");
                // Storing is this turn: the passages are written in the same transaction as the completion.
                BeginStep(ProjectStep.Storing);
                State.Steps[ProjectStep.Storing].Attempts++;
                Context.Execute("DELETE FROM transcript_chunks WHERE project_id = $1", projectId);
                foreach (var chunk in embeddings.Chunks)
                {
                    Context.Execute(
                        "INSERT INTO transcript_chunks (project_id, idx, user_id, start_s, end_s, text, embedding, provider, model) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        projectId, chunk.Index, State.UserId, chunk.Start, chunk.End, chunk.Text, chunk.Embedding, embeddings.Provider, embeddings.Model);
                }

                CompleteStep(ProjectStep.Storing, "postgresql");
                State.Step = null;
                State.Status = ProjectStatus.Completed;
                State.Progress = 100;
                State.PendingStep = null;
                Save("completed");
                break;
            default:
                Fail(step, $"Unexpected result for step {step}.");
                break;
        }
    }

    private void StartStep(ProjectStep step)
    {
        State.Status = ProjectStatus.Processing;
        State.PendingStep = step;
        BeginStep(step);
        State.Steps[step].Attempts++;
        State.CurrentWork = step switch
        {
            ProjectStep.Downloading => Context.StartWork(WorkKinds.Ingest, new IngestPayload(Key, State.UserId, State.Source!), step.ToString()),
            ProjectStep.ExtractingAudio or ProjectStep.Uploading => Context.StartWork(WorkKinds.Media, new MediaPayload(Key, State.UserId, State.Video!), step.ToString()),
            ProjectStep.Transcribing => Context.StartWork(WorkKinds.Transcribe, new TranscribePayload(Key, State.Audio!, State.CompressedAudio, State.Media?.DurationSeconds ?? 0), step.ToString()),
            ProjectStep.Analyzing => Context.StartWork(WorkKinds.Analyze, new ProjectPayload(Key, State.Title), step.ToString()),
            ProjectStep.GeneratingContent => Context.StartWork(WorkKinds.Generate, new ProjectPayload(Key, State.Title), step.ToString()),
            ProjectStep.GeneratingEmbeddings or ProjectStep.Storing => Context.StartWork(WorkKinds.Embed, new ProjectPayload(Key, State.Title), ProjectStep.GeneratingEmbeddings.ToString()),
            _ => throw new ArgumentOutOfRangeException(nameof(step)),
        };
        if (step == ProjectStep.Storing)
        {
            State.Step = ProjectStep.GeneratingEmbeddings;
            State.PendingStep = ProjectStep.GeneratingEmbeddings;
        }

        Save("status_changed");
    }

    private void BeginStep(ProjectStep step)
    {
        State.Step = step;
        var record = State.Steps[step];
        record.Status = "running";
        record.StartedAt = Context.Now;
        record.FinishedAt = null;
        State.Progress = Math.Max(State.Progress, Ranges[step].Start);
    }

    private void CompleteStep(ProjectStep step, string? provider)
    {
        var record = State.Steps[step];
        record.Status = "completed";
        record.StartedAt ??= Context.Now;
        record.FinishedAt = Context.Now;
        record.Error = null;
        record.Provider = provider;
        State.Progress = Math.Max(State.Progress, Ranges[step].End);
        Context.Publish("step_completed", new { projectId = Key, userId = State.UserId, step, provider, progress = State.Progress });
    }

    private void Fail(ProjectStep step, string error)
    {
        var record = State.Steps[step];
        record.Status = "failed";
        record.Error = error;
        record.FinishedAt = Context.Now;
        State.Status = ProjectStatus.Failed;
        State.PendingStep = step;
        State.Error = error;
        Save("failed");
    }

    private void StopCurrentWork()
    {
        if (State.CurrentWork is { } item)
        {
            Context.CancelWork(item);
            State.CurrentWork = null;
        }

        Context.ClearReminder(RetryReminder);
    }

    /// <summary>Writes the read-model row and, when <paramref name="eventKind"/> is given, publishes the change.</summary>
    private void Save(string? eventKind)
    {
        State.UpdatedAt = Context.Now;
        var steps = Order.Select(s => new
        {
            name = s,
            State.Steps[s].Status,
            State.Steps[s].Attempts,
            State.Steps[s].StartedAt,
            State.Steps[s].FinishedAt,
            State.Steps[s].Error,
            State.Steps[s].Provider,
        });
        Context.Execute(
            """
            INSERT INTO projects (id, user_id, title, status, step, progress, error, source, media, video_blob, thumbnail_blob, steps, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12::jsonb, $13, $14)
            ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status, step = excluded.step, progress = excluded.progress,
                error = excluded.error, media = excluded.media, video_blob = excluded.video_blob, thumbnail_blob = excluded.thumbnail_blob,
                steps = excluded.steps, updated_at = excluded.updated_at
            """,
            Guid.Parse(Key), State.UserId, State.Title, Name(State.Status), State.Step is { } step ? Name(step) : null, State.Progress, State.Error,
            JsonSerializer.Serialize(State.Source, RuntimeJson.Options), State.Media is null ? null : JsonSerializer.Serialize(State.Media, RuntimeJson.Options),
            State.Video is { } video ? $"{video.Container}/{video.Name}" : null, State.Thumbnail?.Name, JsonSerializer.Serialize(steps, RuntimeJson.Options),
            State.CreatedAt.UtcDateTime, State.UpdatedAt.UtcDateTime);
        if (eventKind is not null)
        {
            Context.Publish(eventKind, Event());
        }
    }

    private object Event() => new { projectId = Key, userId = State.UserId, status = State.Status, step = State.Step, progress = State.Progress, error = State.Error, title = State.Title };

    private ProjectSnapshot Snapshot() => new(Key, State.UserId, State.Title, State.Status, State.Step, State.Progress, State.Error);

    private static string Name<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    private static T Read<T>(JsonElement element) => element.Deserialize<T>(RuntimeJson.Options)
        ?? throw new InvalidOperationException($"The step returned no {typeof(T).Name}.");
}
