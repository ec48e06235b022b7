using Orleans.Concurrency;
using System.Collections.Concurrent;
using MediaActors.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Grains.Projects;

/// <summary>
/// Runs the step attempts this silo accepted, at most <see cref="ProjectOptions.StepConcurrency"/> at once, off the grains'
/// threads. Each attempt heartbeats its owner (which answers false to stop it: cancelled or superseded) and reports its
/// outcome tagged with the attempt id. On silo stop, running attempts get <see cref="ProjectOptions.ShutdownGrace"/> to
/// finish; the rest are cancelled and reported as retryable, so their projects retry on another silo (those still waiting
/// for a slot as not started: they start again at once and are not counted as attempts).
/// </summary>
public sealed class StepRunner(IServiceProvider services, IGrainFactory grains, IOptions<ProjectOptions> options, ILogger<StepRunner> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ProjectOptions _options = options.Value;
    private readonly ConcurrentDictionary<Guid, Attempt> _running = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.StepConcurrency));
    // Attempts a stopping silo cancelled before they got a slot, handed back once its grains have moved.
    private readonly ConcurrentQueue<StepRequest> _notStarted = new();

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
    public void Start(StepRequest request)
    {
        if (_stopping.IsCancellationRequested)
        {
            throw new InvalidOperationException("This silo is stopping; the step must run elsewhere.");
        }

        var attempt = new Attempt(request, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        if (_running.TryAdd(request.AttemptId, attempt))
        {
            attempt.Task = Task.Run(() => RunAsync(attempt));
        }
    }

    private async Task RunAsync(Attempt attempt)
    {
        var request = attempt.Request;
        var owner = grains.GetGrain<IStepOwner>(request.ProjectId);
        var token = attempt.Cancellation.Token;
        var heartbeats = Task.Run(() => HeartbeatAsync(owner, attempt));
        var slots = _slots;
        var acquired = false;
        try
        {
            await slots.WaitAsync(token);
            acquired = true;
            // Tells the owner the attempt began: losing it from now on counts against the step.
            attempt.Report(0, StepNotes.Running);
            logger.LogInformation("Step {Step} of project {Project} started (attempt {Attempt})", request.Step, request.ProjectId, request.AttemptId);
            var step = (IProjectStep)services.GetRequiredKeyedService(typeof(IProjectStep), request.Step);
            var output = await step.RunAsync(request, attempt, token);
            attempt.Done();
            await DeliverAsync(request, () => owner.StepSucceeded(request.AttemptId, output));
            logger.LogInformation("Step {Step} of project {Project} succeeded", request.Step, request.ProjectId);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            attempt.Done();
            if (_stopping.IsCancellationRequested && !attempt.StoppedByOwner)
            {
                if (acquired)
                {
                    await DeliverAsync(request, () => owner.StepFailed(request.AttemptId, "The silo running this step stopped; it runs again.", true));
                }
                else
                {
                    _notStarted.Enqueue(request);
                }
            }

            logger.LogInformation("Step {Step} of project {Project} stopped ({Reason})", request.Step, request.ProjectId,
                attempt.StoppedByOwner ? "cancelled or superseded" : "silo stopping");
        }
        catch (Exception ex)
        {
            attempt.Done();
            var retryable = IsRetryable(ex);
            logger.LogWarning(ex, "Step {Step} of project {Project} failed ({Kind})", request.Step, request.ProjectId, retryable ? "retryable" : "permanent");
            await DeliverAsync(request, () => owner.StepFailed(request.AttemptId, ex.Message, retryable));
        }
        finally
        {
            if (acquired)
            {
                slots.Release();
            }

            await heartbeats;
            _running.TryRemove(request.AttemptId, out _);
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
    private async Task DeliverAsync(StepRequest request, Func<Task> send)
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
                logger.LogWarning(ex, "Reporting step {Step} of project {Project} failed (try {Try}); trying again", request.Step, request.ProjectId, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt));
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Could not report step {Step} of project {Project}; its watchdog will run it again", request.Step, request.ProjectId);
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
                if (!await owner.Heartbeat(attempt.Request.AttemptId, fraction, note).WaitAsync(_options.StepLease))
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
                logger.LogDebug(ex, "Heartbeat of project {Project} failed", attempt.Request.ProjectId);
            }

            await Task.Delay(minimumGap);
        }
    }

    private async Task HandBackNotStartedAsync(CancellationToken cancellationToken)
    {
        var requests = _notStarted.ToArray();
        if (requests.Length > 0)
        {
            logger.LogInformation("Silo stopping: {Count} steps that had not begun are handed back to their projects", requests.Length);
            await Task.WhenAll(requests.Select(r => DeliverAsync(r, () => grains.GetGrain<IStepOwner>(r.ProjectId).StepNotStarted(r.AttemptId))))
                .WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
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
    private sealed class Attempt(StepRequest request, CancellationTokenSource cancellation) : IStepProgress
    {
        private readonly Lock _lock = new();
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private double _fraction;
        private string? _note;

        public StepRequest Request { get; } = request;

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

/// <summary>The stateless worker grain that accepts step attempts on the caller's silo and hands them to its <see cref="StepRunner"/>.</summary>
[StatelessWorker]
public sealed class StepWorkerGrain(StepRunner runner) : Grain, IStepWorker
{
    public Task Start(StepRequest request)
    {
        runner.Start(request);
        return Task.CompletedTask;
    }
}
