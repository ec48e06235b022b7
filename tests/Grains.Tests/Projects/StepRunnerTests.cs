using System.Collections.Concurrent;
using MediaActors.Grains.Projects;
using MediaActors.Grains.Publish;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Tests.Projects;

/// <summary>
/// The silo's step runner on its own, driven through the silo lifecycle stages it subscribes to: what a stopping silo does
/// with the attempts it runs and the ones waiting for a slot.
/// </summary>
public sealed class StepRunnerTests
{
    [Fact]
    public async Task A_slot_freed_during_the_stopping_silos_grace_starts_nothing_new_and_the_waiting_attempt_is_handed_back_uncounted()
    {
        var (runner, lifecycle, owner) = OneSlot(shutdownGrace: TimeSpan.FromSeconds(1));

        // One slot: the first attempt runs until told to finish, the second waits for the slot.
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = Guid.NewGuid();
        var waiting = Guid.NewGuid();
        var waitingBegan = false;
        runner.Start(new StepWork(running, owner, "running", StepPool.Steps, async (_, ct) =>
        {
            await finish.Task.WaitAsync(ct);
            return new StepOutput();
        }));
        await owner.WaitForAsync(() => owner.Notes(running).Contains(StepNotes.Running));
        runner.Start(new StepWork(waiting, owner, "waiting", StepPool.Steps, (_, _) =>
        {
            waitingBegan = true;
            return Task.FromResult(new StepOutput());
        }));

        // The silo stops: the running attempt finishes within the grace period and frees its slot.
        // (The runner marks itself stopping before its stop hook first yields, so the stop has begun here.)
        var stop = lifecycle.StopAsync(ServiceLifecycleStage.Active);
        finish.SetResult();
        await owner.WaitForAsync(() => owner.Succeeded.Contains(running));
        await stop;
        await lifecycle.StopAsync(ServiceLifecycleStage.GrainDirectoryShutdown - 1);

        // The waiting attempt never began here: it is handed back (it starts again elsewhere and is not counted).
        Assert.False(waitingBegan);
        Assert.DoesNotContain(StepNotes.Running, owner.Notes(waiting));
        Assert.Contains(waiting, owner.NotStarted);
        Assert.DoesNotContain(owner.Failed, f => f.AttemptId == waiting);
        Assert.Equal(0, runner.Running);
    }

    [Fact]
    public async Task A_stopping_silo_reports_its_running_attempt_as_retryable_and_hands_back_the_one_that_waited()
    {
        var (runner, lifecycle, owner) = OneSlot(shutdownGrace: TimeSpan.FromMilliseconds(200));
        var running = Guid.NewGuid();
        var waiting = Guid.NewGuid();
        runner.Start(new StepWork(running, owner, "running", StepPool.Steps, async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new StepOutput();
        }));
        await owner.WaitForAsync(() => owner.Notes(running).Contains(StepNotes.Running));
        runner.Start(new StepWork(waiting, owner, "waiting", StepPool.Steps, (_, _) => Task.FromResult(new StepOutput())));

        await lifecycle.StopAsync(ServiceLifecycleStage.Active);
        await lifecycle.StopAsync(ServiceLifecycleStage.GrainDirectoryShutdown - 1);

        Assert.Contains(owner.Failed, f => f.AttemptId == running && f.Retryable);
        Assert.Contains(waiting, owner.NotStarted);
        Assert.DoesNotContain(running, owner.NotStarted);
        Assert.Throws<InvalidOperationException>(() => runner.Start(new StepWork(Guid.NewGuid(), owner, "late", StepPool.Steps, (_, _) => Task.FromResult(new StepOutput()))));
    }

    /// <summary>A runner with one step slot, subscribed to a lifecycle the test stops, and an owner that records what it is told.</summary>
    private static (StepRunner Runner, RecordingLifecycle Lifecycle, RecordingOwner Owner) OneSlot(TimeSpan shutdownGrace)
    {
        var runner = new StepRunner(
            Options.Create(new ProjectOptions { StepConcurrency = 1, ShutdownGrace = shutdownGrace, HeartbeatInterval = TimeSpan.FromMilliseconds(50), StepLease = TimeSpan.FromSeconds(5) }),
            Options.Create(new PublishOptions()), NullLogger<StepRunner>.Instance);
        var lifecycle = new RecordingLifecycle();
        runner.Participate(lifecycle);
        return (runner, lifecycle, new RecordingOwner());
    }

    /// <summary>The silo lifecycle as far as the runner uses it: observers by stage, stopped when the test says.</summary>
    private sealed class RecordingLifecycle : ISiloLifecycle
    {
        private readonly List<(int Stage, ILifecycleObserver Observer)> _observers = [];

        public int HighestCompletedStage => ServiceLifecycleStage.Active;

        public int LowestStoppedStage => int.MaxValue;

        public IDisposable Subscribe(string observerName, int stage, ILifecycleObserver observer)
        {
            _observers.Add((stage, observer));
            return new NoDispose();
        }

        public Task StopAsync(int stage) => Task.WhenAll(_observers.Where(o => o.Stage == stage).Select(o => o.Observer.OnStop(CancellationToken.None)));

        private sealed class NoDispose : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }

    /// <summary>An owner that says yes to every heartbeat and records what it was told.</summary>
    private sealed class RecordingOwner : IStepOwner
    {
        private readonly ConcurrentQueue<(Guid AttemptId, string? Note)> _heartbeats = new();

        public ConcurrentQueue<Guid> Succeeded { get; } = new();

        public ConcurrentQueue<(Guid AttemptId, string Error, bool Retryable)> Failed { get; } = new();

        public ConcurrentQueue<Guid> NotStarted { get; } = new();

        public List<string?> Notes(Guid attemptId) => [.. _heartbeats.Where(h => h.AttemptId == attemptId).Select(h => h.Note)];

        public Task<bool> Heartbeat(Guid attemptId, double fraction, string? note)
        {
            _heartbeats.Enqueue((attemptId, note));
            return Task.FromResult(true);
        }

        public Task StepSucceeded(Guid attemptId, StepOutput output)
        {
            Succeeded.Enqueue(attemptId);
            return Task.CompletedTask;
        }

        public Task StepFailed(Guid attemptId, string error, bool retryable)
        {
            Failed.Enqueue((attemptId, error, retryable));
            return Task.CompletedTask;
        }

        public Task StepNotStarted(Guid attemptId)
        {
            NotStarted.Enqueue(attemptId);
            return Task.CompletedTask;
        }

        public async Task WaitForAsync(Func<bool> condition)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!condition())
            {
                Assert.True(DateTime.UtcNow < deadline, "timed out");
                await Task.Delay(20);
            }
        }
    }
}
