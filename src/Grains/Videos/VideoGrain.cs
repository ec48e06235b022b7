using System.Globalization;
using System.Text.Json;
using MediaActors.Grains.Projects;
using MediaActors.Providers;
using MediaActors.Providers.Avatar;
using MediaActors.Providers.Media;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Videos;

/// <summary>An avatar video's state, written by its grain before anything it decides takes effect.</summary>
public sealed class VideoState
{
    public VideoStatus Status { get; set; }

    public string UserId { get; set; } = "";

    public string Kind { get; set; } = "";

    public string Title { get; set; } = "";

    public string RequestJson { get; set; } = "{}";

    public CatalogEntry? Avatar { get; set; }

    public CatalogEntry? Voice { get; set; }

    public string? ExecutionId { get; set; }

    public string? Error { get; set; }

    /// <summary>The attempt in flight (dispatch, or download of <see cref="ResultUrl"/>), if any.</summary>
    public VideoAttempt? Attempt { get; set; }

    /// <summary>Attempts at the current piece of work (dispatch, then download).</summary>
    public int Attempts { get; set; }

    public DateTimeOffset? RetryAt { get; set; }

    /// <summary>The result the generator announced, to download.</summary>
    public Uri? ResultUrl { get; set; }

    /// <summary>When the completion callback came (names the stored file).</summary>
    public DateTimeOffset? ResultAt { get; set; }

    public BlobRef? Blob { get; set; }

    public long? SizeBytes { get; set; }

    public MediaInfo? Media { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? DispatchedAt { get; set; }

    /// <summary>With no callback by then, the video fails.</summary>
    public DateTimeOffset? TimeoutAt { get; set; }

    public DateTimeOffset? ReadyAt { get; set; }

    public DateTimeOffset EstimatedReadyAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The generator's webhook event ids already received (applied or recorded): a repeat changes nothing.</summary>
    public List<string> EventIds { get; set; } = [];

    /// <summary>Callbacks that came after the video had ended: recorded, not applied.</summary>
    public List<LateCallback> LateCallbacks { get; set; } = [];

    public List<BlobRef> BlobsToDelete { get; set; } = [];

    public long Version { get; set; }

    public long EventSeq { get; set; }

    public List<OutboxEvent> Outbox { get; set; } = [];
}

public sealed record VideoAttempt(Guid Id, DateTimeOffset StartedAt, bool Running = false);

public sealed record LateCallback(string EventId, string Kind, string? Detail, DateTimeOffset At);

/// <summary>
/// An avatar video (DESIGN.md flow 5): dispatched to the generator by a worker (transient failures retried with backoff,
/// a 4xx fails it), then waiting for the generator's signed callback: completion starts the download of the result by a
/// worker, a workflow error fails it. Each callback event id counts once; a callback after the video ended is recorded,
/// not applied. The watchdog reminder fails a video whose callback does not come within <see cref="AvatarOptions.Timeout"/>
/// and restarts a silent attempt, as for projects.
/// </summary>
public sealed class VideoGrain(
    [PersistentState("video", StorageNames.Projects)] IPersistentState<VideoState> state,
    IVideoStore store,
    BlobStore blobs,
    IOptions<AvatarOptions> avatarOptions,
    IOptions<ProjectOptions> projectOptions,
    TimeProvider time,
    ILogger<VideoGrain> logger) : Grain, IVideoGrain, IStepOwner, IRemindable
{
    private const int MaxEventIds = 200;
    private readonly AvatarOptions _options = avatarOptions.Value;
    private readonly ProjectOptions _runner = projectOptions.Value;
    private DateTimeOffset _leaseUntil;
    private Guid? _dispatched;
    private Watchdog? _watchdog;

    private VideoState State => state.State;

    private Guid Id => this.GetPrimaryKey();

    private DateTimeOffset Now => time.GetUtcNow();

    private bool Active => State.Status is VideoStatus.Pending or VideoStatus.Processing;

    private bool HasEffects => State.Outbox.Count > 0 || State.BlobsToDelete.Count > 0;

    private bool NeedsWatchdog => Active || HasEffects;

    // A video waiting for its callback needs no timer (the reminder notices the timeout); one with work in flight does.
    private Watchdog Dog => _watchdog ??= new Watchdog(this, _runner.WatchdogPeriod,
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, Math.Min(_options.RetryBackoff.Ticks, _runner.StepLease.Ticks / 4))),
        needed: () => NeedsWatchdog, timerWanted: () => State.Attempt is not null || State.RetryAt is not null || HasEffects, check: CheckAsync);

    /// <summary>
    /// The view of the state as last stored. <c>Get</c> interleaves with the other calls, so it could otherwise show a
    /// change another call made but has not stored yet (and might never store, if its write fails).
    /// </summary>
    private VideoView? _stored;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stored = View();
        _leaseUntil = Now + _runner.StepLease;
        _dispatched = State.Attempt?.Id;
        if (HasEffects)
        {
            await FlushAsync();
        }

        if (NeedsWatchdog)
        {
            Dog.ArmTimer();
        }
    }

    public async Task<VideoView> Create(CreateVideo command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (State.Status != VideoStatus.None)
        {
            return View();
        }

        State.UserId = command.UserId;
        State.Kind = command.Kind;
        State.Title = command.Title;
        State.RequestJson = command.RequestJson;
        State.Avatar = command.Avatar;
        State.Voice = command.Voice;
        State.CreatedAt = Now;
        State.EstimatedReadyAt = command.EstimatedReadyAt;
        State.Status = VideoStatus.Pending;
        Changed("video_created");
        Begin();
        await CommitAsync();
        return View();
    }

    public Task<VideoView> Get() => Task.FromResult(_stored ?? View());

    public Task<WebhookOutcome> Completed(string eventId, Uri videoUrl) => CallbackAsync(eventId, "video-complete", videoUrl.ToString(), () =>
    {
        State.ResultUrl = videoUrl;
        State.ResultAt = Now;
        State.Status = VideoStatus.Processing;
        State.Attempt = null;
        State.Attempts = 0;
        Publish("video_progress", new { videoId = Id, userId = State.UserId, status = State.Status, message = "downloading result..." });
        Begin();
    });

    public Task<WebhookOutcome> WorkflowFailed(string eventId, string message) => CallbackAsync(eventId, "workflow-error", message, () =>
        Fail($"The avatar generator reported an error: {message}"));

    /// <summary>A webhook: once per event id; applied while the video waits for it, recorded (not applied) after it ended.</summary>
    private async Task<WebhookOutcome> CallbackAsync(string eventId, string kind, string detail, Action apply)
    {
        if (State.Status is VideoStatus.None or VideoStatus.Deleted)
        {
            return WebhookOutcome.Unknown;
        }

        if (State.EventIds.Contains(eventId))
        {
            return WebhookOutcome.Replay;
        }

        State.EventIds.Add(eventId);
        if (State.EventIds.Count > MaxEventIds)
        {
            State.EventIds.RemoveAt(0);
        }

        // Applied while the video waits for its generator (a callback may even beat the dispatch's own answer); a second
        // completion while the first result downloads is recorded like a late one.
        if (Active && State.ResultUrl is null)
        {
            apply();
            await CommitAsync();
            return WebhookOutcome.Applied;
        }

        logger.LogInformation("Video {Video}: {Kind} callback {Event} came after the video was {Status}; recorded, not applied", Id, kind, eventId, State.Status);
        State.LateCallbacks.Add(new LateCallback(eventId, kind, detail.Length > 500 ? detail[..500] : detail, Now));
        Changed(null);
        Publish("video_late_callback", new { videoId = Id, userId = State.UserId, status = State.Status, eventId, callback = kind, lateCallbacks = State.LateCallbacks.Count });
        await CommitAsync();
        return WebhookOutcome.Late;
    }

    public async Task<VideoView> Cancel()
    {
        if (Active)
        {
            State.Attempt = null;
            State.RetryAt = null;
            State.Status = VideoStatus.Cancelled;
            Changed("video_cancelled");
            await CommitAsync();
        }

        return View();
    }

    public async Task<VideoView> Delete()
    {
        if (State.Status is VideoStatus.None or VideoStatus.Deleted)
        {
            return View();
        }

        State.BlobsToDelete = State.Blob is { } blob ? [blob] : [];
        if (State.Attempt is not null && State.ResultUrl is not null)
        {
            // A download in flight may still store the file: delete that name too.
            State.BlobsToDelete.Add(Target());
        }

        State.Attempt = null;
        State.RetryAt = null;
        State.Status = VideoStatus.Deleted;
        Changed("video_deleted");
        await CommitAsync();
        return View();
    }

    public async Task<bool> Heartbeat(Guid attemptId, double fraction, string? note)
    {
        if (State.Attempt?.Id != attemptId || !Active)
        {
            return false;
        }

        _leaseUntil = Now + _runner.StepLease;
        if (!State.Attempt.Running && (note is not null || fraction > 0))
        {
            State.Attempt = State.Attempt with { Running = true };
            await WriteAsync();
        }

        return true;
    }

    public async Task StepSucceeded(Guid attemptId, StepOutput output)
    {
        if (State.Attempt?.Id != attemptId || !Active || output.Video is not { } result)
        {
            return;
        }

        State.Attempt = null;
        State.Attempts = 0;
        if (result.Dispatched)
        {
            if (State.ResultUrl is null)
            {
                State.Status = VideoStatus.Processing;
                State.ExecutionId = result.ExecutionId;
                State.DispatchedAt = Now;
                State.TimeoutAt = Now + _options.Timeout;
                Changed("video_dispatched");
            }
        }
        else
        {
            State.Blob = result.Blob;
            State.SizeBytes = result.SizeBytes;
            State.Media = result.Media;
            State.ReadyAt = Now;
            State.Status = VideoStatus.Ready;
            State.Error = null;
            Changed("video_ready");
            logger.LogInformation("Video {Video} is ready: {Size} bytes, {Duration:0.0} s", Id, result.SizeBytes, result.Media?.DurationSeconds);
        }

        await CommitAsync();
    }

    public async Task StepFailed(Guid attemptId, string error, bool retryable)
    {
        if (State.Attempt?.Id != attemptId || !Active)
        {
            return;
        }

        State.Attempt = null;
        RetryOrFail(error, retryable);
        await CommitAsync();
    }

    public async Task StepNotStarted(Guid attemptId)
    {
        if (State.Attempt?.Id != attemptId || !Active)
        {
            return;
        }

        State.Attempt = null;
        State.Attempts = Math.Max(0, State.Attempts - 1);
        Begin();
        await CommitAsync();
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
            await Dog.StopAsync(!Active);
            return;
        }

        await CheckAsync();
    }

    /// <summary>The watchdog: pending effects, a silent attempt, a due retry, the callback's timeout.</summary>
    private async Task CheckAsync()
    {
        if (HasEffects)
        {
            await FlushAsync();
        }

        if (!Active)
        {
            return;
        }

        if (State.Attempt is { } attempt && Now > _leaseUntil)
        {
            logger.LogWarning("Video {Video}: its attempt sent no heartbeat for {Lease}; starting it again", Id, _runner.StepLease);
            State.Attempt = null;
            if (attempt.Running)
            {
                RetryOrFail("The silo running this video's work stopped answering.", retryable: true);
            }
            else
            {
                State.Attempts = Math.Max(0, State.Attempts - 1);
                Begin();
            }

            await CommitAsync();
        }
        else if (State.Attempt is null && State.RetryAt is { } due && Now >= due)
        {
            Begin();
            await CommitAsync();
        }
        else if (State.Attempt is null && State.RetryAt is null && (State.Status == VideoStatus.Pending || State.ResultUrl is not null))
        {
            // The attempt was written but never dispatched (its silo died in between, or it was taken back).
            Begin();
            await CommitAsync();
        }
        else if (State.Attempt is null && State.ResultUrl is null && State.TimeoutAt is { } timeout && Now > timeout)
        {
            Fail($"No callback from the avatar generator within {_options.Timeout.TotalMinutes.ToString("0", CultureInfo.InvariantCulture)} minutes.");
            await CommitAsync();
        }
    }

    private void Begin()
    {
        State.Attempts++;
        State.Attempt = new VideoAttempt(Guid.NewGuid(), Now);
        State.RetryAt = null;
        Changed(null);
    }

    private void RetryOrFail(string error, bool retryable)
    {
        if (!retryable || State.Attempts >= _options.MaxAttempts)
        {
            Fail(State.ResultUrl is null ? error : $"The result could not be stored: {error}");
            return;
        }

        var backoff = TimeSpan.FromTicks(Math.Min(_options.RetryBackoff.Ticks << Math.Min(State.Attempts - 1, 20), _options.MaxRetryBackoff.Ticks));
        State.RetryAt = Now + backoff;
        State.Error = error;
        Changed(null);
        Publish("video_retry_scheduled", new { videoId = Id, userId = State.UserId, attempt = State.Attempts, error, retryInSeconds = backoff.TotalSeconds });
    }

    private void Fail(string error)
    {
        State.Status = VideoStatus.Failed;
        State.Error = error;
        State.Attempt = null;
        State.RetryAt = null;
        Changed("video_failed");
    }

    private void Changed(string? eventKind)
    {
        State.UpdatedAt = Now;
        State.Version++;
        if (eventKind is not null)
        {
            Publish(eventKind, new
            {
                videoId = Id,
                userId = State.UserId,
                status = State.Status,
                title = State.Title,
                error = State.Error,
                sizeBytes = State.SizeBytes,
                durationSeconds = State.Media?.DurationSeconds,
            });
        }
    }

    private void Publish(string kind, object payload) =>
        State.Outbox.Add(new OutboxEvent(++State.EventSeq, kind, JsonSerializer.Serialize(payload, JsonDefaults.Options), Now));

    /// <summary>Where the result is stored: videos/{user}/{time of the completion callback}.mp4.</summary>
    private BlobRef Target() =>
        new(Containers.Videos, $"{SafeNames.ForPath(State.UserId, 64)}/{(State.ResultAt ?? Now).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}.mp4");

    private async Task CommitAsync()
    {
        await WriteAsync();
        await FlushAsync();
        if (State.Attempt is { } attempt && Active && _dispatched != attempt.Id)
        {
            await DispatchAsync(attempt);
        }

        if (NeedsWatchdog)
        {
            await Dog.StartAsync();
        }
        else
        {
            await Dog.StopAsync(ended: true);
        }
    }

    private async Task WriteAsync()
    {
        await this.WriteOrDeactivateAsync(state);
        _stored = View();
    }

    private async Task FlushAsync()
    {
        try
        {
            if (State.Outbox.Count > 0 || State.Status == VideoStatus.Deleted)
            {
                await store.FlushAsync(Id, State);
                State.Outbox.Clear();
            }

            if (State.BlobsToDelete.Count > 0)
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
            logger.LogWarning(ex, "Video {Video}: writing its events and read model (or deleting its file) failed; done again later", Id);
            Dog.ArmTimer();
        }
    }

    private async Task DispatchAsync(VideoAttempt attempt)
    {
        _leaseUntil = Now + _runner.StepLease;
        _dispatched = attempt.Id;
        var request = new VideoWorkRequest(Id, attempt.Id, State.UserId, State.Kind, State.Title, State.RequestJson, State.Avatar, State.Voice, State.ResultUrl,
            State.ResultUrl is null ? null : Target());
        await this.StartOrTakeBackAsync(state, () => GrainFactory.GetGrain<IStepWorker>(0).StartVideo(request), () =>
        {
            _dispatched = null;
            State.Attempt = null;
            State.Attempts = Math.Max(0, State.Attempts - 1);
        }, logger, $"Video {Id}");
    }

    private VideoView View() => new(
        Id, State.UserId, State.Status, State.Kind, State.Title, State.Avatar, State.Voice, State.Error, State.Blob, State.SizeBytes, State.Media, State.ExecutionId,
        State.CreatedAt, State.DispatchedAt, State.ReadyAt, State.EstimatedReadyAt, State.LateCallbacks.Count, State.EventSeq);
}
