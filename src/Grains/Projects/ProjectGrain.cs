using System.Text.Json;
using MediaActors.Providers;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using MediaActors.Providers.Transcription;

namespace MediaActors.Grains.Projects;

/// <summary>The project pipeline's settings (section "Projects").</summary>
public sealed class ProjectOptions
{
    /// <summary>Tries of one step whose failures are transient, before the project fails.</summary>
    public int MaxStepAttempts { get; set; } = 4;

    /// <summary>Backoff before the first retry; doubled each time.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Steps one silo runs at once (default: its cores).</summary>
    public int StepConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>How often a running step tells its project it is alive (also the longest wait before a cancel reaches it).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A step whose heartbeats stop for this long (its silo died) is started again.</summary>
    public TimeSpan StepLease { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Period of the durable reminder that checks a project in flight (lease, retry due, upload state) even after its silo died.</summary>
    public TimeSpan WatchdogPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>On silo stop, how long running steps may finish before they are handed to another silo.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// A video project. The grain is the only writer of its state: every transition is written (with its events) before
/// anything else happens, then the events and the read-model row are flushed (idempotently, re-flushed after a crash).
/// Each step runs as an attempt on a stateless worker; its heartbeats and outcome come back tagged with the attempt id,
/// and anything from another attempt is ignored. Transient failures retry after a backoff; permanent ones fail the
/// project, which a retry resumes from the failed step. A durable watchdog reminder restarts an attempt whose heartbeats
/// stopped, starts a retry whose timer was lost with its silo, and notices an upload that completed or expired.
/// </summary>
public sealed class ProjectGrain(
    [PersistentState("project", StorageNames.Projects)] IPersistentState<ProjectState> state,
    IProjectStore store,
    BlobStore blobs,
    IOptions<ProjectOptions> options,
    TimeProvider time,
    ILogger<ProjectGrain> logger) : Grain, IProjectGrain, IStepOwner, IRemindable
{
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
    private DateTimeOffset _leaseUntil;
    private Watchdog? _watchdog;
    private Guid? _dispatched;

    private ProjectState State => state.State;

    // A project waiting for its upload (maybe for a day) needs no timer: the reminder checks the upload's row.
    private Watchdog Dog => _watchdog ??= new Watchdog(this, _options.WatchdogPeriod,
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, Math.Min(_options.RetryBackoff.Ticks, _options.StepLease.Ticks / 4))),
        needed: () => NeedsWatchdog || State.Outbox.Count > 0,
        timerWanted: () => State.Status != ProjectStatus.Uploading,
        check: async () =>
        {
            if (State.Outbox.Count > 0)
            {
                await FlushAsync();
            }

            await CheckAsync();
        });

    private Guid Id => this.GetPrimaryKey();

    private DateTimeOffset Now => time.GetUtcNow();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A step in flight gets a full lease from now: its heartbeats reach this activation if its silo is alive.
        _leaseUntil = Now + _options.StepLease;
        // Whoever wrote the attempt dispatched it; if that silo died, the lease runs out and a new attempt starts.
        _dispatched = State.Attempt?.Id;
        if (State.Outbox.Count > 0 || State.BlobsToDelete.Count > 0)
        {
            await FlushAsync();
        }

        if (NeedsWatchdog)
        {
            Dog.ArmTimer();
        }
    }

    public async Task<ProjectView> Create(CreateProject command)
    {
        if (State.Status != ProjectStatus.None)
        {
            return View();
        }

        State.UserId = command.UserId;
        State.Title = command.Title;
        State.Source = command.Source;
        State.CreatedAt = Now;
        State.Steps = Order.ToDictionary(s => s, _ => new StepRecord());
        // The upload may have completed (and said so) before this call arrived.
        var ready = command.UploadComplete || State.UploadReady;
        State.Status = ready ? ProjectStatus.Queued : ProjectStatus.Uploading;
        Changed("created");
        if (ready)
        {
            Begin(ProjectStep.Downloading);
        }
        else if (State.UploadExpiredAt is { } expiredAt)
        {
            // The expiry was said before this call arrived.
            Fail(ProjectStep.Downloading, UploadExpiredMessage(expiredAt));
        }

        await CommitAsync();
        return View();
    }

    public async Task UploadExpired(DateTimeOffset expiredAt)
    {
        if (State.Status == ProjectStatus.None)
        {
            State.UploadExpiredAt = expiredAt;
            await state.WriteStateAsync();
        }
        else if (State.Status == ProjectStatus.Uploading)
        {
            Fail(ProjectStep.Downloading, UploadExpiredMessage(expiredAt));
            await CommitAsync();
        }
    }

    private static string UploadExpiredMessage(DateTimeOffset expiredAt) =>
        $"The upload was not completed before it expired ({expiredAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC); its file was deleted. Create a new upload and a new project.";

    public async Task<ProjectView> UploadCompleted()
    {
        if (State.Status == ProjectStatus.None && !State.UploadReady)
        {
            State.UploadReady = true;
            await state.WriteStateAsync();
        }
        else if (State.Status == ProjectStatus.Uploading)
        {
            State.Status = ProjectStatus.Queued;
            Changed("status_changed");
            Begin(ProjectStep.Downloading);
            await CommitAsync();
        }

        return View();
    }

    public async Task<ProjectView> Cancel()
    {
        if (State.Status is ProjectStatus.Uploading or ProjectStatus.Queued or ProjectStatus.Processing)
        {
            if (State.Step is { } step && State.Steps[step].Status == "running")
            {
                State.Steps[step].Status = "cancelled";
                State.Steps[step].FinishedAt = Now;
            }

            // The running attempt learns it at its next heartbeat and stops.
            State.Attempt = null;
            State.RetryAt = null;
            State.PendingStep = State.Step ?? ProjectStep.Downloading;
            State.Status = ProjectStatus.Cancelled;
            Changed("cancelled");
            await CommitAsync();
        }

        return View();
    }

    public async Task<ProjectView> Retry()
    {
        if (State.Status is not (ProjectStatus.Failed or ProjectStatus.Cancelled))
        {
            throw new InvalidOperationException($"Only a failed or cancelled project can be retried; this one is {ProjectStore.Name(State.Status)}.");
        }

        var step = State.PendingStep ?? ProjectStep.Downloading;
        State.Error = null;
        State.Steps[step].Attempts = 0;
        State.Steps[step].Error = null;
        Begin(step);
        await CommitAsync();
        return View();
    }

    public async Task<ProjectView> Delete()
    {
        if (State.Status is ProjectStatus.None or ProjectStatus.Deleted)
        {
            return View();
        }

        State.BlobsToDelete = new[] { State.Video, State.Audio, State.CompressedAudio, State.Thumbnail }.OfType<BlobRef>().ToList();
        State.Attempt = null;
        State.RetryAt = null;
        State.Status = ProjectStatus.Deleted;
        State.Outbox.Add(NewEvent("deleted", EventPayload()));
        State.Version++;
        State.UpdatedAt = Now;
        await CommitAsync();
        return View();
    }

    public Task<ProjectView> Get() => Task.FromResult(View());

    public async Task<bool> Heartbeat(Guid attemptId, double fraction, string? note)
    {
        if (State.Attempt?.Id != attemptId || State.Status != ProjectStatus.Processing || State.Step is not { } step)
        {
            return false;
        }

        _leaseUntil = Now + _options.StepLease;
        var attempt = State.Attempt!;
        if (!attempt.Running && (note is not null || fraction > 0))
        {
            // It got its slot: from now on, losing it counts as an attempt of the step (written with the next change, or now).
            State.Attempt = attempt with { Running = true };
            if (note == StepNotes.Running && State.Outbox.Count == 0)
            {
                await WriteAsync();
            }
        }

        // The media step does two steps: its "uploading" note moves the project on.
        if (note == StepNotes.Uploading && step == ProjectStep.ExtractingAudio)
        {
            CompleteStep(step, "ffmpeg");
            step = ProjectStep.Uploading;
            StartRecord(step);
            State.Steps[step].Attempts++;
            Changed(null);
        }

        var (start, end) = Ranges[step];
        var value = start + (int)Math.Floor((end - start) * Math.Clamp(fraction, 0, 1));
        if (value > State.Progress)
        {
            State.Progress = value;
            Changed("progress");
        }

        if (State.Outbox.Count > 0)
        {
            await CommitAsync();
        }

        return true;
    }

    public async Task StepSucceeded(Guid attemptId, StepOutput output)
    {
        if (State.Attempt?.Id != attemptId || State.Status != ProjectStatus.Processing || State.Step is not { } step)
        {
            logger.LogDebug("Project {Project}: result of attempt {Attempt} ignored (stale)", Id, attemptId);
            return;
        }

        State.Attempt = null;
        // Result rows first (idempotent upserts): if this silo dies before the state is written, the step simply runs again.
        await ApplyAsync(step, output);
        await CommitAsync();
    }

    public async Task StepFailed(Guid attemptId, string error, bool retryable)
    {
        if (State.Attempt?.Id != attemptId || State.Status != ProjectStatus.Processing || State.Step is not { } step)
        {
            return;
        }

        State.Attempt = null;
        RetryOrFail(step, error, retryable);
        await CommitAsync();
    }

    public async Task StepNotStarted(Guid attemptId)
    {
        if (State.Attempt is not { } attempt || attempt.Id != attemptId || State.Status != ProjectStatus.Processing)
        {
            return;
        }

        logger.LogInformation("Project {Project}: step {Step} had not begun on a stopping silo; it starts again elsewhere", Id, attempt.Step);
        State.Attempt = null;
        Requeue(attempt, "The silo this step was waiting on stopped; it starts again elsewhere.");
        await CommitAsync();
    }

    public async Task<bool> TranscriptPart(Guid attemptId, TranscribedPart part)
    {
        ArgumentNullException.ThrowIfNull(part);
        if (State.Attempt?.Id != attemptId || State.Status != ProjectStatus.Processing || State.Step != ProjectStep.Transcribing)
        {
            return false;
        }

        _leaseUntil = Now + _options.StepLease;
        var partial = State.Partial ??= new PartialTranscript { Plan = part.Plan, Count = part.Count };
        if (partial.Plan != part.Plan)
        {
            // This attempt cut the audio otherwise (its settings changed): parts of the two do not fit together.
            if (partial.Next > 0)
            {
                logger.LogInformation("Project {Project}: this transcription attempt cut the audio into {Count} parts differently from the {Published} published; the live transcript starts over",
                    Id, part.Count, partial.Next);
                Publish("transcript_reset", new { projectId = Id, userId = State.UserId, reason = "The transcription started over with the audio cut differently; drop the parts received so far." });
            }

            partial.Plan = part.Plan;
            partial.Count = part.Count;
            partial.Next = 0;
            partial.Pending.Clear();
            partial.Clear = true;
        }

        if (part.Index != partial.Next)
        {
            // Below: published already (a resumed attempt repeats what it could not read back). Above: never, parts come in order.
            if (part.Index > partial.Next)
            {
                logger.LogWarning("Project {Project}: transcript part {Part} came before part {Next}; not published", Id, part.Index, partial.Next);
            }

            return true;
        }

        Publish("transcript_partial", new
        {
            projectId = Id,
            userId = State.UserId,
            part = part.Index,
            parts = part.Count,
            start = part.Start,
            end = part.End,
            text = part.Text,
            segments = part.Segments,
        });
        partial.Pending.Add(part);
        partial.Next++;
        await CommitAsync();
        return true;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != Watchdog.ReminderName)
        {
            return;
        }

        Dog.Fired();
        if (!NeedsWatchdog)
        {
            await Dog.StopAsync(Ended);
            return;
        }

        await CheckAsync();
    }

    /// <summary>What the watchdog reminder and the timer do: restart a silent attempt, start a due retry, follow the upload, finish a delete.</summary>
    private async Task CheckAsync()
    {
        if (State.Status == ProjectStatus.Deleted)
        {
            await FlushAsync();
            return;
        }

        if (State.Status == ProjectStatus.Uploading && State.Source?.UploadId is { } uploadId)
        {
            // UploadCompleted / UploadExpired are ordinary messages: if one was lost, the upload row still says what happened.
            var upload = await store.UploadStatusAsync(uploadId);
            if (upload?.Status == "completed")
            {
                await UploadCompleted();
            }
            else if (upload?.Status == "expired")
            {
                await UploadExpired(upload.Value.ExpiresAt);
            }

            return;
        }

        if (State.Status != ProjectStatus.Processing || State.PendingStep is not { } pending)
        {
            return;
        }

        if (State.Attempt is { } attempt && Now > _leaseUntil)
        {
            logger.LogWarning("Project {Project}: step {Step} sent no heartbeat for {Lease}; starting it again", Id, attempt.Step, _options.StepLease);
            State.Attempt = null;
            if (attempt.Running)
            {
                // Counted (a step that kills its silo each time must end), but not backed off more each time: the likely
                // cause is the silo, not the step.
                RetryOrFail(attempt.Step, SiloLost, retryable: true, doubling: false);
            }
            else
            {
                Requeue(attempt, SiloLost);
            }

            await CommitAsync();
        }
        else if (State.Attempt is null && State.RetryAt is { } due && Now >= due)
        {
            Begin(pending);
            await CommitAsync();
        }
        else if (State.Attempt is null && State.RetryAt is null)
        {
            // The attempt was written but never dispatched (this silo died in between).
            Begin(pending);
            await CommitAsync();
        }
    }

    private async Task ApplyAsync(ProjectStep step, StepOutput output)
    {
        switch (step)
        {
            case ProjectStep.Downloading when output.Ingest is { } ingest:
                State.Video = ingest.Video;
                State.SizeBytes = ingest.SizeBytes;
                State.Md5 = ingest.Md5;
                if (string.IsNullOrWhiteSpace(State.Title) && !string.IsNullOrWhiteSpace(ingest.Title))
                {
                    State.Title = ingest.Title.Length > 200 ? ingest.Title[..200] : ingest.Title;
                }

                CompleteStep(step, State.Source?.Platform ?? State.Source?.Kind);
                Begin(ProjectStep.ExtractingAudio);
                break;
            case ProjectStep.ExtractingAudio or ProjectStep.Uploading when output.Media is { } media:
                State.Media = media.Media;
                State.Audio = media.Audio;
                State.CompressedAudio = media.CompressedAudio;
                State.Thumbnail = media.Thumbnail;
                if (step == ProjectStep.ExtractingAudio)
                {
                    CompleteStep(step, "ffmpeg");
                    // Uploading ran in this attempt even if its "uploading" note did not arrive before the result.
                    State.Steps[ProjectStep.Uploading].Attempts = Math.Max(1, State.Steps[ProjectStep.Uploading].Attempts);
                }

                CompleteStep(ProjectStep.Uploading, "blob");
                Begin(ProjectStep.Transcribing);
                break;
            case ProjectStep.Transcribing when output.Transcript is { } transcript:
                // The transcript replaces its parts' rows (in one transaction); the parts published stay in the event log.
                await store.SaveTranscriptAsync(Id, State.UserId, transcript);
                CompleteStep(step, $"{transcript.Provider}/{transcript.Model}");
                Publish("transcript_ready", new
                {
                    projectId = Id, userId = State.UserId, segments = transcript.Segments.Count, provider = transcript.Provider, parts = State.Partial?.Next ?? 0,
                });
                State.Partial = null;
                Begin(ProjectStep.Analyzing);
                break;
            case ProjectStep.Analyzing when output.Analysis is { } analysis:
                await store.SaveAnalysisAsync(Id, State.UserId, analysis);
                CompleteStep(step, $"{analysis.Provider}/{analysis.Model}");
                Begin(ProjectStep.GeneratingContent);
                break;
            case ProjectStep.GeneratingContent when output.Content is { } content:
                await store.SaveContentAsync(Id, State.UserId, content);
                CompleteStep(step, $"{content.Provider}/{content.Model}");
                Publish("content_ready", new { projectId = Id, userId = State.UserId, title = content.Title });
                Begin(ProjectStep.GeneratingEmbeddings);
                break;
            case ProjectStep.GeneratingEmbeddings when output.Embeddings is { } embeddings:
                CompleteStep(step, $"{embeddings.Provider}/{embeddings.Model}");
                // Storing is done here: the passages are written before the completion is.
                StartRecord(ProjectStep.Storing);
                State.Steps[ProjectStep.Storing].Attempts++;
                await store.SaveChunksAsync(Id, State.UserId, embeddings);
                CompleteStep(ProjectStep.Storing, "postgresql");
                State.Step = null;
                State.Status = ProjectStatus.Completed;
                State.Progress = 100;
                State.PendingStep = null;
                Changed("completed");
                break;
            default:
                Fail(step, $"Step {ProjectStore.Name(step)} returned no result.");
                break;
        }
    }

    /// <summary>Records a new attempt at <paramref name="step"/>; <see cref="CommitAsync"/> dispatches it once it is written.</summary>
    private void Begin(ProjectStep step)
    {
        if (step == ProjectStep.Storing)
        {
            // Storing has no worker of its own: it is the end of generating embeddings.
            step = ProjectStep.GeneratingEmbeddings;
        }

        State.Status = ProjectStatus.Processing;
        State.PendingStep = step;
        State.RetryAt = null;
        StartRecord(step);
        State.Steps[step].Attempts++;
        State.Attempt = new StepAttempt(Guid.NewGuid(), step, Now);
        Changed("status_changed");
    }

    private const string SiloLost = "The silo running this step stopped answering.";

    private void RetryOrFail(ProjectStep step, string error, bool retryable, bool doubling = true)
    {
        var attempts = State.Steps[step].Attempts;
        if (!retryable || attempts >= _options.MaxStepAttempts)
        {
            Fail(step, error);
            return;
        }

        var shift = doubling ? Math.Min(attempts - 1, 20) : 0;
        var backoff = TimeSpan.FromTicks(Math.Min(_options.RetryBackoff.Ticks << shift, _options.MaxRetryBackoff.Ticks));
        State.Steps[step].Error = error;
        State.PendingStep = step;
        State.RetryAt = Now + backoff;
        Publish("retry_scheduled", new { projectId = Id, userId = State.UserId, step, attempt = attempts, error, retryInSeconds = backoff.TotalSeconds });
        Changed(null);
    }

    /// <summary>An attempt lost before it began (it was waiting for a step slot): a new one starts at once and the lost one does not count.</summary>
    private void Requeue(StepAttempt lost, string reason)
    {
        var step = State.PendingStep ?? lost.Step;
        State.Steps[step].Attempts = Math.Max(0, State.Steps[step].Attempts - 1);
        Publish("retry_scheduled", new { projectId = Id, userId = State.UserId, step, attempt = State.Steps[step].Attempts, error = reason, retryInSeconds = 0, started = false });
        Begin(step);
    }

    private void StartRecord(ProjectStep step)
    {
        State.Step = step;
        var record = State.Steps[step];
        record.Status = "running";
        record.StartedAt = Now;
        record.FinishedAt = null;
        State.Progress = Math.Max(State.Progress, Ranges[step].Start);
    }

    private void CompleteStep(ProjectStep step, string? provider)
    {
        var record = State.Steps[step];
        record.Status = "completed";
        record.StartedAt ??= Now;
        record.FinishedAt = Now;
        record.Error = null;
        record.Provider = provider;
        State.Progress = Math.Max(State.Progress, Ranges[step].End);
        Publish("step_completed", new { projectId = Id, userId = State.UserId, step, provider, progress = State.Progress });
    }

    private void Fail(ProjectStep step, string error)
    {
        var record = State.Steps[step];
        record.Status = "failed";
        record.Error = error;
        record.FinishedAt = Now;
        State.Status = ProjectStatus.Failed;
        State.PendingStep = step;
        State.Attempt = null;
        State.RetryAt = null;
        State.Error = error;
        Changed("failed");
    }

    /// <summary>Bumps the version (the read-model row follows) and, when <paramref name="eventKind"/> is given, publishes the change.</summary>
    private void Changed(string? eventKind)
    {
        State.UpdatedAt = Now;
        State.Version++;
        if (eventKind is not null)
        {
            Publish(eventKind, EventPayload());
        }
    }

    private void Publish(string kind, object payload) => State.Outbox.Add(NewEvent(kind, payload));

    private OutboxEvent NewEvent(string kind, object payload) =>
        new(++State.EventSeq, kind, JsonSerializer.Serialize(payload, JsonDefaults.Options), Now);

    private object EventPayload() => new { projectId = Id, userId = State.UserId, status = State.Status, step = State.Step, progress = State.Progress, error = State.Error, title = State.Title };

    /// <summary>
    /// Writes the state, then its effects: events and read-model row, the attempt's dispatch, the watchdog. A failed write
    /// deactivates the grain, so the next call starts from what is stored instead of from this activation's unsaved changes.
    /// </summary>
    private async Task CommitAsync()
    {
        await WriteAsync();
        await FlushAsync();
        if (State.Attempt is { } attempt && State.Status == ProjectStatus.Processing && _dispatched != attempt.Id)
        {
            await DispatchAsync(attempt);
        }

        if (NeedsWatchdog)
        {
            await Dog.StartAsync();
        }
        else
        {
            await Dog.StopAsync(Ended);
        }
    }

    private Task WriteAsync() => this.WriteOrDeactivateAsync(state);

    /// <summary>Sends the pending events and the read-model row; on failure they stay pending (in the stored state) for the next try.</summary>
    private async Task FlushAsync()
    {
        try
        {
            await store.FlushAsync(Id, State);
            State.Outbox.Clear();
            if (State.Partial is { } partial)
            {
                partial.Pending.Clear();
                partial.Clear = false;
            }

            if (State.Status == ProjectStatus.Deleted && State.BlobsToDelete.Count > 0)
            {
                foreach (var blob in State.BlobsToDelete)
                {
                    await blobs.DeleteIfExistsAsync(blob.Container, blob.Name);
                }

                State.BlobsToDelete.Clear();
                await state.WriteStateAsync();
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Project {Project}: writing events and read model failed; they stay pending and are written again", Id);
            Dog.ArmTimer();
        }
    }

    private async Task DispatchAsync(StepAttempt attempt)
    {
        _leaseUntil = Now + _options.StepLease;
        _dispatched = attempt.Id;
        var request = new StepRequest(Id, attempt.Id, attempt.Step, State.UserId, State.Title, State.Source, State.Video, State.Audio,
            State.CompressedAudio, State.Media?.DurationSeconds ?? 0);
        await this.StartOrTakeBackAsync(state, () => GrainFactory.GetGrain<IStepWorker>(0).Start(request), () =>
        {
            _dispatched = null;
            State.Attempt = null;
            State.Steps[attempt.Step].Attempts = Math.Max(0, State.Steps[attempt.Step].Attempts - 1);
        }, logger, $"Step {attempt.Step} of project {Id}");
    }

    private bool NeedsWatchdog =>
        State.Status is ProjectStatus.Uploading or ProjectStatus.Queued or ProjectStatus.Processing
        || (State.Status == ProjectStatus.Deleted && (State.BlobsToDelete.Count > 0 || State.Outbox.Count > 0));

    private bool Ended => State.Status is ProjectStatus.Completed or ProjectStatus.Failed or ProjectStatus.Cancelled or ProjectStatus.Deleted;

    private ProjectView View() => new(
        Id, State.UserId, State.Title, State.Status, State.Step, State.Progress, State.Error, State.Source, State.Media, State.Video, State.Thumbnail,
        Order.Where(State.Steps.ContainsKey).Select(s => new StepView(s, State.Steps[s].Status, State.Steps[s].Attempts, State.Steps[s].StartedAt,
            State.Steps[s].FinishedAt, State.Steps[s].Error, State.Steps[s].Provider)).ToList(),
        State.CreatedAt, State.UpdatedAt, State.EventSeq);
}

/// <summary>The grain storage providers the grains use.</summary>
public static class StorageNames
{
    public const string Projects = "projects";
}
