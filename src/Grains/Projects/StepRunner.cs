using Orleans.Concurrency;
using System.Collections.Concurrent;
using MediaActors.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MediaActors.Grains.Publish;
using MediaActors.Grains.Videos;
using Npgsql;

namespace MediaActors.Grains.Projects;

/// <summary>
/// Runs the step attempts this silo accepted, at most <see cref="ProjectOptions.StepConcurrency"/> at once, off the grains'
/// threads. Each attempt heartbeats its owner (which answers false to stop it: cancelled or superseded) and reports its
/// outcome tagged with the attempt id. On silo stop, running attempts get <see cref="ProjectOptions.ShutdownGrace"/> to
/// finish; the rest are cancelled and reported as retryable, so their projects retry on another silo (those still waiting
/// for a slot as not started: they start again at once and are not counted as attempts). A slot freed during the grace
/// period starts nothing new.
/// </summary>
public sealed class StepRunner(IOptions<ProjectOptions> options, IOptions<PublishOptions> publishOptions, ILogger<StepRunner> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ProjectOptions _options = options.Value;
    private readonly ConcurrentDictionary<Guid, Attempt> _running = new();
    private readonly CancellationTokenSource _stopping = new();
    // Set when the silo starts stopping (before the grace period): from then on a freed slot starts nothing new.
    private volatile bool _draining;
    // CPU-bound project steps and network-bound publish jobs wait for slots of their own.
    private readonly Dictionary<StepPool, SemaphoreSlim> _slots = new()
    {
        [StepPool.Steps] = new(Math.Max(1, options.Value.StepConcurrency)),
        [StepPool.Network] = new(Math.Max(1, publishOptions.Value.Concurrency)),
    };
    // Attempts a stopping silo cancelled before they got a slot, handed back once its grains have moved.
    private readonly ConcurrentQueue<StepWork> _notStarted = new();

    /// <summary>The attempts accepted here and not finished yet.</summary>
    public int Running => _running.Count;

    public void Participate(ISiloLifecycle lifecycle)
    {
        lifecycle.Subscribe(nameof(StepRunner), ServiceLifecycleStage.Active, _ => Task.CompletedTask, StopAsync);
        // After this silo's grains were deactivated (GrainDeactivation, then the directory's hand-off), so that the owners
        // of the attempts that never began are activated on a live silo and start them there.
        lifecycle.Subscribe(nameof(StepRunner), ServiceLifecycleStage.GrainDirectoryShutdown - 1, _ => Task.CompletedTask, HandBackNotStartedAsync);
    }

    /// <summary>Accepts an attempt (a repeated start of the same attempt is ignored); throws when the silo is stopping.</summary>
    public void Start(StepWork work)
    {
        if (_stopping.IsCancellationRequested)
        {
            throw new InvalidOperationException("This silo is stopping; the step must run elsewhere.");
        }

        var attempt = new Attempt(work, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        if (_running.TryAdd(work.AttemptId, attempt))
        {
            attempt.Task = Task.Run(() => RunAsync(attempt));
        }
    }

    private async Task RunAsync(Attempt attempt)
    {
        var work = attempt.Work;
        var owner = work.Owner;
        var token = attempt.Cancellation.Token;
        var heartbeats = Task.Run(() => HeartbeatAsync(owner, attempt));
        var slots = _slots[work.Pool];
        var acquired = false;
        try
        {
            await slots.WaitAsync(token);
            if (_draining)
            {
                // A slot freed during the stopping silo's grace period (a step finished): this attempt does not begin
                // here only to be cut off moments later. It waits with the others and is handed back, not counted.
                slots.Release();
                await Task.Delay(Timeout.Infinite, token);
            }

            acquired = true;
            // Tells the owner the attempt began: losing it from now on counts against the step.
            attempt.Report(0, StepNotes.Running);
            logger.LogInformation("{Work} started (attempt {Attempt})", work.Label, work.AttemptId);
            var output = await work.RunAsync(attempt, token);
            attempt.Done();
            await DeliverAsync(work, () => owner.StepSucceeded(work.AttemptId, output));
            logger.LogInformation("{Work} succeeded", work.Label);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            attempt.Done();
            if (_stopping.IsCancellationRequested && !attempt.StoppedByOwner)
            {
                if (acquired)
                {
                    await DeliverAsync(work, () => owner.StepFailed(work.AttemptId, "The silo running this step stopped; it runs again.", true));
                }
                else
                {
                    _notStarted.Enqueue(work);
                }
            }

            logger.LogInformation("{Work} stopped ({Reason})", work.Label, attempt.StoppedByOwner ? "cancelled or superseded" : "silo stopping");
        }
        catch (Exception ex)
        {
            attempt.Done();
            var retryable = IsRetryable(ex);
            logger.LogWarning(ex, "{Work} failed ({Kind})", work.Label, retryable ? "retryable" : "permanent");
            await DeliverAsync(work, () => owner.StepFailed(work.AttemptId, ex.Message, retryable));
        }
        finally
        {
            if (acquired)
            {
                slots.Release();
            }

            await heartbeats;
            _running.TryRemove(work.AttemptId, out _);
            attempt.Cancellation.Dispose();
        }
    }

    /// <summary>Without a verdict from the step, trouble reaching something is worth another try; anything else is not.</summary>
    public static bool IsRetryable(Exception ex) => ex switch
    {
        StepException step => step.Transient,
        TimeoutException or HttpRequestException or IOException => true,
        NpgsqlException npgsql => npgsql.IsTransient,
        Azure.RequestFailedException azure => azure.Status is 0 or 408 or 429 or >= 500,
        _ => false,
    };

    /// <summary>Sends the outcome, retrying a few times (the owner may be moving to another silo); the owner's watchdog covers the rest.</summary>
    private async Task DeliverAsync(StepWork work, Func<Task> send)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await send();
                return;
            }
            catch (Exception ex) when (attempt < 5)
            {
                logger.LogWarning(ex, "Reporting the outcome of {Work} failed (try {Try}); trying again", work.Label, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt));
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Could not report the outcome of {Work}; its watchdog will run it again", work.Label);
                return;
            }
        }
    }

    private async Task HeartbeatAsync(IStepOwner owner, Attempt attempt)
    {
        var minimumGap = TimeSpan.FromMilliseconds(200);
        while (!attempt.Finished.IsCompleted)
        {
            await ((Task)Task.WhenAny(attempt.Finished, attempt.Changed.WaitAsync(_options.HeartbeatInterval))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (attempt.Finished.IsCompleted)
            {
                return;
            }

            var (fraction, note) = attempt.Take();
            try
            {
                if (!await owner.Heartbeat(attempt.Work.AttemptId, fraction, note).WaitAsync(_options.StepLease))
                {
                    attempt.StoppedByOwner = true;
                    await attempt.Cancellation.CancelAsync();
                    return;
                }
            }
            catch (Exception ex) when (ex is not ObjectDisposedException)
            {
                // The owner may be moving to another silo: keep the note for the next heartbeat.
                attempt.Restore(note);
                logger.LogDebug(ex, "Heartbeat of {Work} failed", attempt.Work.Label);
            }

            await Task.Delay(minimumGap);
        }
    }

    private async Task HandBackNotStartedAsync(CancellationToken cancellationToken)
    {
        var waiting = _notStarted.ToArray();
        if (waiting.Length > 0)
        {
            logger.LogInformation("Silo stopping: {Count} steps that had not begun are handed back to their owners", waiting.Length);
            await Task.WhenAll(waiting.Select(w => DeliverAsync(w, () => w.Owner.StepNotStarted(w.AttemptId))))
                .WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var running = _running.Values.ToList();
        if (running.Count > 0)
        {
            logger.LogInformation("Silo stopping: {Count} steps get {Grace} to finish", running.Count, _options.ShutdownGrace);
            await ((Task)Task.WhenAny(Task.WhenAll(running.Select(a => a.Task ?? Task.CompletedTask)), Task.Delay(_options.ShutdownGrace, cancellationToken)))
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_running.Values.Select(a => a.Task ?? Task.CompletedTask)).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>One running attempt: its cancellation, and the progress not yet sent to the owner.</summary>
    private sealed class Attempt(StepWork work, CancellationTokenSource cancellation) : IStepProgress
    {
        private readonly Lock _lock = new();
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private double _fraction;
        private string? _note;

        public StepWork Work { get; } = work;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        public Task? Task { get; set; }

        public bool StoppedByOwner { get; set; }

        public SemaphoreSlim Changed { get; } = new(0, 1);

        public Task Finished => _finished.Task;

        public void Report(double fraction, string? note = null)
        {
            lock (_lock)
            {
                _fraction = fraction;
                // A note (a change of phase) is kept until it was sent.
                _note = note ?? _note;
            }

            if (Changed.CurrentCount == 0)
            {
                try
                {
                    Changed.Release();
                }
                catch (SemaphoreFullException)
                {
                }
            }
        }

        public (double Fraction, string? Note) Take()
        {
            lock (_lock)
            {
                var taken = (_fraction, _note);
                _note = null;
                return taken;
            }
        }

        public void Restore(string? note)
        {
            lock (_lock)
            {
                _note ??= note;
            }
        }

        public void Done() => _finished.TrySetResult();
    }
}

/// <summary>The slots an attempt waits for: CPU-bound project steps, or network-bound work (publish jobs, avatar videos).</summary>
public enum StepPool
{
    Steps,
    Network,
}

/// <summary>One attempt handed to the <see cref="StepRunner"/>: its owner (which gets its heartbeats and outcome), a label for the logs, its pool, and what it runs.</summary>
public sealed record StepWork(Guid AttemptId, IStepOwner Owner, string Label, StepPool Pool, Func<IStepProgress, CancellationToken, Task<StepOutput>> RunAsync);

/// <summary>The stateless worker grain that accepts step attempts and publish jobs on the caller's silo and hands them to its <see cref="StepRunner"/>.</summary>
[StatelessWorker]
public sealed class StepWorkerGrain(StepRunner runner, IServiceProvider services) : Grain, IStepWorker
{
    public Task Start(StepRequest request)
    {
        var step = (IProjectStep)services.GetRequiredKeyedService(typeof(IProjectStep), request.Step);
        var owner = GrainFactory.GetGrain<IProjectGrain>(request.ProjectId).AsReference<IStepOwner>();
        runner.Start(new StepWork(request.AttemptId, owner, $"Step {request.Step} of project {request.ProjectId}", StepPool.Steps,
            (progress, cancellationToken) => step.RunAsync(request, progress, cancellationToken)));
        return Task.CompletedTask;
    }

    public Task StartVideo(VideoWorkRequest request)
    {
        var worker = services.GetRequiredService<VideoWorker>();
        var owner = GrainFactory.GetGrain<IVideoGrain>(request.VideoId).AsReference<IStepOwner>();
        runner.Start(new StepWork(request.AttemptId, owner, $"Video {request.VideoId} {(request.ResultUrl is null ? "dispatch" : "download")}", StepPool.Network,
            (progress, cancellationToken) => worker.RunAsync(request, progress, cancellationToken)));
        return Task.CompletedTask;
    }

    public Task StartPublish(PublishRequest request)
    {
        var publisher = services.GetRequiredService<Publisher>();
        var owner = GrainFactory.GetGrain<IPublishJobGrain>(request.JobId).AsReference<IStepOwner>();
        runner.Start(new StepWork(request.AttemptId, owner, $"Publish job {request.JobId}", StepPool.Network,
            (progress, cancellationToken) => publisher.RunAsync(request, progress, cancellationToken)));
        return Task.CompletedTask;
    }
}
