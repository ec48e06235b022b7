using System.Text.Json;
using MediaActors.Grains.Projects;
using MediaActors.Providers;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Publish;

/// <summary>
/// A publish job (DESIGN.md flow 4). Like a project, the grain is the only writer of its state and writes every
/// transition (with its events) before acting on it; each attempt runs on a worker (<see cref="Publisher"/>) whose
/// heartbeats and outcome carry the attempt id. Transient failures retry with a doubling backoff up to
/// <see cref="PublishOptions.MaxAttempts"/>; a used-up YouTube quota sends the job back to pending until the reset
/// without using an attempt. The job holds its file's duplicate claim while it lives and gives it back, with the video
/// it became, when it ends. A durable watchdog reminder restarts a silent attempt and starts a due retry on any silo.
/// </summary>
public sealed class PublishJobGrain(
    [PersistentState("publish-job", StorageNames.Projects)] IPersistentState<PublishJobState> state,
    IPublishStore store,
    BlobStore blobs,
    IOptions<PublishOptions> publishOptions,
    IOptions<ProjectOptions> projectOptions,
    TimeProvider time,
    ILogger<PublishJobGrain> logger) : Grain, IPublishJobGrain, IStepOwner, IRemindable
{
    private const string SiloLost = "The silo running this job stopped answering.";
    private readonly PublishOptions _options = publishOptions.Value;
    // Heartbeats, lease and watchdog period are the step runner's, shared with projects.
    private readonly ProjectOptions _runner = projectOptions.Value;
    private DateTimeOffset _leaseUntil;
    private Watchdog? _watchdog;
    private Guid? _dispatched;

    private PublishJobState State => state.State;

    // A job waiting hours for the quota needs no timer: the reminder starts it (and the activation may go meanwhile).
    private Watchdog Dog => _watchdog ??= new Watchdog(this, _runner.WatchdogPeriod,
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, Math.Min(_options.RetryBackoff.Ticks, _runner.StepLease.Ticks / 4))),
        needed: () => NeedsWatchdog, timerWanted: () => State.WaitingForQuotaUntil is null, check: CheckAsync);

    private Guid Id => this.GetPrimaryKey();

    private DateTimeOffset Now => time.GetUtcNow();

    private bool Active => State.Status is PublishStatus.Pending or PublishStatus.Downloading or PublishStatus.Uploading;

    private bool Final => State.Status is PublishStatus.Completed or PublishStatus.Failed or PublishStatus.Cancelled;

    /// <summary>
    /// The view of the state as last stored. <c>Get</c> interleaves with the other calls, so it could otherwise show a
    /// change another call made but has not stored yet (and might never store, if its write fails).
    /// </summary>
    private PublishJobView? _stored;

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

    public async Task<PublishJobView> Create(CreatePublishJob command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (State.Status != PublishStatus.None)
        {
            return View();
        }

        var claim = await Dedupe(command.UserId, command.Source.Md5).Claim(Id);
        if (!claim.Claimed)
        {
            return View() with { UserId = command.UserId, DuplicateOf = claim.HeldBy };
        }

        State.UserId = command.UserId;
        State.Source = command.Source;
        State.Metadata = command.Metadata;
        State.FolderId = command.FolderId;
        State.CreatedAt = Now;
        State.HoldsFile = true;
        State.Status = PublishStatus.Pending;
        Changed("publish_queued");
        Begin();
        try
        {
            await CommitAsync();
        }
        catch
        {
            // Not created: give the file back (if this fails too, the claim lapses: the job does not exist).
            await Dedupe(command.UserId, command.Source.Md5).Release(Id, null);
            throw;
        }

        return View();
    }

    public Task<PublishJobView> Get() => Task.FromResult(_stored ?? View());

    public async Task<PublishJobView> Cancel()
    {
        if (Active)
        {
            // The running attempt learns it at its next heartbeat and stops.
            State.Attempt = null;
            State.RetryAt = null;
            State.WaitingForQuotaUntil = null;
            End(PublishStatus.Cancelled, "publish_cancelled");
            await CommitAsync();
        }

        return View();
    }

    public async Task<PublishJobView> Retry()
    {
        if (State.Status is not (PublishStatus.Failed or PublishStatus.Cancelled))
        {
            throw new InvalidOperationException($"Only a failed or cancelled job can be retried; this one is {ProjectStore.Name(State.Status)}.");
        }

        if (!State.HoldsFile)
        {
            var claim = await Dedupe(State.UserId, State.Source!.Md5).Claim(Id);
            if (!claim.Claimed)
            {
                throw new InvalidOperationException($"Publish job {claim.HeldBy} is queued for the same file; this one is not retried.");
            }

            State.HoldsFile = true;
        }

        State.Error = null;
        State.Attempts = 0;
        State.CompletedAt = null;
        State.StagingToDelete = false;
        State.Status = PublishStatus.Pending;
        Changed("publish_queued");
        Begin();
        await CommitAsync();
        return View();
    }

    public async Task<bool> SessionStarted(Guid attemptId, Uri session)
    {
        if (State.Attempt?.Id != attemptId || !Active)
        {
            return false;
        }

        // Written before a byte is sent: an attempt on another silo resumes this session, never starts from zero.
        State.Session = session;
        await WriteAsync();
        return true;
    }

    public async Task<bool> Heartbeat(Guid attemptId, double fraction, string? note)
    {
        if (State.Attempt?.Id != attemptId || !Active)
        {
            return false;
        }

        _leaseUntil = Now + _runner.StepLease;
        var changed = false;
        if (!State.Attempt.Running && (note is not null || fraction > 0))
        {
            State.Attempt = State.Attempt with { Running = true };
            changed = true;
        }

        var status = note == StepNotes.Uploading || fraction >= 0.5 ? PublishStatus.Uploading
            : State.Status == PublishStatus.Pending && State.Attempt.Running ? PublishStatus.Downloading
            : State.Status;
        if (status != State.Status)
        {
            State.Status = status;
            State.Progress = Math.Max(State.Progress, status == PublishStatus.Uploading ? 50 : 0);
            Changed("publish_status_changed");
        }

        var progress = (int)Math.Floor(100 * Math.Clamp(fraction, 0, 1));
        if (progress > State.Progress)
        {
            State.Progress = progress;
            Changed("publish_progress");
        }

        if (State.Outbox.Count > 0)
        {
            await CommitAsync();
        }
        else if (changed)
        {
            await WriteAsync();
        }

        return true;
    }

    public async Task StepSucceeded(Guid attemptId, StepOutput output)
    {
        if (State.Attempt?.Id != attemptId || !Active)
        {
            return;
        }

        State.Attempt = null;
        switch (output.Publish)
        {
            case { Outcome: PublishOutcome.QuotaExceeded, QuotaResetsAt: { } resetsAt }:
                // Not the job's fault: no attempt used; it starts again when the quota resets.
                State.Attempts = Math.Max(0, State.Attempts - 1);
                State.Status = PublishStatus.Pending;
                State.WaitingForQuotaUntil = resetsAt;
                State.RetryAt = resetsAt;
                Changed("publish_waiting_for_quota");
                break;
            case { Outcome: PublishOutcome.Uploaded or PublishOutcome.AlreadyOnYouTube, VideoId: { } videoId } result:
                State.VideoId = videoId;
                State.AlreadyOnYouTube = result.Outcome == PublishOutcome.AlreadyOnYouTube;
                State.Progress = 100;
                End(PublishStatus.Completed, "publish_completed");
                logger.LogInformation(State.AlreadyOnYouTube
                    ? "Publish job {Job}: the file is already on YouTube as {Video}; not uploaded again"
                    : "Publish job {Job}: uploaded as {Video}", Id, videoId);
                break;
            default:
                State.Error = "The publish attempt returned no result.";
                End(PublishStatus.Failed, "publish_failed");
                break;
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
            await Dog.StopAsync(Final);
            return;
        }

        await CheckAsync();
    }

    /// <summary>The watchdog's work: finish pending effects, restart a silent attempt, start a due retry or a quota wait that is over.</summary>
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
            logger.LogWarning("Publish job {Job}: its attempt sent no heartbeat for {Lease}; starting it again", Id, _runner.StepLease);
            State.Attempt = null;
            if (attempt.Running)
            {
                RetryOrFail(SiloLost, retryable: true, doubling: false);
            }
            else
            {
                State.Attempts = Math.Max(0, State.Attempts - 1);
                Begin();
            }

            await CommitAsync();
        }
        else if (State.Attempt is null && (State.RetryAt is null || Now >= State.RetryAt))
        {
            Begin();
            await CommitAsync();
        }
    }

    /// <summary>Records a new attempt; <see cref="CommitAsync"/> dispatches it once it is written.</summary>
    private void Begin()
    {
        State.Attempts++;
        State.Attempt = new PublishAttempt(Guid.NewGuid(), Now);
        State.RetryAt = null;
        if (State.WaitingForQuotaUntil is not null)
        {
            State.WaitingForQuotaUntil = null;
            Changed("publish_status_changed");
        }
        else
        {
            Changed(null);
        }
    }

    private void RetryOrFail(string error, bool retryable, bool doubling = true)
    {
        if (!retryable || State.Attempts >= _options.MaxAttempts)
        {
            State.Error = error;
            End(PublishStatus.Failed, "publish_failed");
            return;
        }

        var shift = doubling ? Math.Min(State.Attempts - 1, 20) : 0;
        var backoff = TimeSpan.FromTicks(Math.Min(_options.RetryBackoff.Ticks << shift, _options.MaxRetryBackoff.Ticks));
        State.Status = PublishStatus.Pending;
        State.RetryAt = Now + backoff;
        State.Error = error;
        Changed(null);
        Publish("publish_retry_scheduled", new { jobId = Id, userId = State.UserId, attempt = State.Attempts, error, retryInSeconds = backoff.TotalSeconds });
    }

    /// <summary>Ends the job; its file claim and its staged copy are let go by the next flush.</summary>
    private void End(PublishStatus status, string eventKind)
    {
        State.Status = status;
        State.Attempt = null;
        State.RetryAt = null;
        State.CompletedAt = Now;
        State.StagingToDelete = State.Source?.Kind == PublishSource.DriveKind;
        if (status == PublishStatus.Completed)
        {
            State.Error = null;
        }

        Changed(eventKind);
    }

    private void Changed(string? eventKind)
    {
        State.UpdatedAt = Now;
        State.Version++;
        if (eventKind is not null)
        {
            Publish(eventKind, new
            {
                jobId = Id,
                userId = State.UserId,
                status = State.Status,
                progress = State.Progress,
                videoId = State.VideoId,
                alreadyOnYouTube = State.AlreadyOnYouTube,
                error = State.Error,
                waitingForQuotaUntil = State.WaitingForQuotaUntil,
                title = State.Metadata?.Title,
            });
        }
    }

    private void Publish(string kind, object payload) =>
        State.Outbox.Add(new OutboxEvent(++State.EventSeq, kind, JsonSerializer.Serialize(payload, JsonDefaults.Options), Now));

    private IPublishDedupeGrain Dedupe(string userId, string md5) => GrainFactory.GetGrain<IPublishDedupeGrain>(PublishKeys.Dedupe(userId, md5));

    /// <summary>Writes the state, then its effects: read model and events, the file claim's release, the attempt's dispatch, the watchdog.</summary>
    private async Task CommitAsync()
    {
        await WriteAsync();
        await FlushAsync();
        if (State.Attempt is { } attempt && Active && _dispatched != attempt.Id && (State.RetryAt is null || Now >= State.RetryAt))
        {
            await DispatchAsync(attempt);
        }

        if (NeedsWatchdog)
        {
            await Dog.StartAsync();
        }
        else
        {
            await Dog.StopAsync(Final);
        }
    }

    private async Task WriteAsync()
    {
        await this.WriteOrDeactivateAsync(state);
        _stored = View();
    }

    private bool HasEffects => State.Outbox.Count > 0 || (Final && (State.HoldsFile || State.StagingToDelete));

    /// <summary>Sends what the stored state says is pending; whatever fails stays pending (in the state) for the timer or the watchdog.</summary>
    private async Task FlushAsync()
    {
        try
        {
            if (State.Outbox.Count > 0)
            {
                await store.FlushAsync(Id, State);
                State.Outbox.Clear();
            }

            if (!Final || !(State.HoldsFile || State.StagingToDelete))
            {
                return;
            }

            if (State.HoldsFile)
            {
                // A job that found the file already on YouTube adds nothing to its history.
                var uploaded = State.Status == PublishStatus.Completed && !State.AlreadyOnYouTube ? State.VideoId : null;
                await Dedupe(State.UserId, State.Source!.Md5).Release(Id, uploaded);
                State.HoldsFile = false;
            }

            if (State.StagingToDelete)
            {
                var staging = Publisher.StagingBlob(State.UserId, Id);
                await blobs.DeleteIfExistsAsync(staging.Container, staging.Name);
                State.StagingToDelete = false;
            }

            await state.WriteStateAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Publish job {Job}: writing its events, read model or file release failed; they stay pending and are done again", Id);
            Dog.ArmTimer();
        }
    }

    private async Task DispatchAsync(PublishAttempt attempt)
    {
        _leaseUntil = Now + _runner.StepLease;
        _dispatched = attempt.Id;
        var request = new PublishRequest(Id, attempt.Id, State.UserId, State.Source!, State.Metadata!, State.Session);
        await this.StartOrTakeBackAsync(state, () => GrainFactory.GetGrain<IStepWorker>(0).StartPublish(request), () =>
        {
            _dispatched = null;
            State.Attempt = null;
            State.Attempts = Math.Max(0, State.Attempts - 1);
        }, logger, $"Publish job {Id}");
    }

    private bool NeedsWatchdog => Active || HasEffects;

    private PublishJobView View() => new(
        Id, State.UserId, State.Status, State.Progress, State.Source, State.Metadata, State.VideoId, State.AlreadyOnYouTube, State.Error, State.Attempts,
        State.RetryAt, State.WaitingForQuotaUntil, null, State.CreatedAt, State.UpdatedAt, State.EventSeq);
}
