using MediaActors.Providers.Transcription;
using MediaActors.Grains.Projects;
using MediaActors.Providers;

namespace MediaActors.Grains.Tests.Projects;

/// <summary>The project state machine on a real (in-process) Orleans cluster: steps, retries on the clock, cancel, stale results.</summary>
public sealed class ProjectGrainTests(ProjectTestCluster cluster) : IClassFixture<ProjectTestCluster>
{
    private static readonly string[] Order = ["downloading", "extracting_audio", "uploading", "transcribing", "analyzing", "generating_content", "generating_embeddings", "storing"];

    [Fact]
    public async Task A_project_runs_every_step_once_and_numbers_its_events_without_gap()
    {
        var (id, grain) = await cluster.CreateAsync();
        await cluster.Store.WaitForAsync(id, "completed");

        var view = await grain.Get();
        Assert.Equal(ProjectStatus.Completed, view.Status);
        Assert.Equal(100, view.Progress);
        Assert.Equal(Order, view.Steps.Select(s => ProjectStore.Name(s.Name)));
        Assert.All(view.Steps, s => Assert.Equal(("completed", 1), (s.Status, s.Attempts)));
        var events = cluster.Store.Events(id);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.Equal("created", events[0].Kind);
        Assert.Equal("completed", events[^1].Kind);
        Assert.Equal(view.EventSeq, events[^1].Seq);
        Assert.Contains(events, e => e.Kind == "transcript_ready");
        Assert.Contains(events, e => e.Kind == "content_ready");
        foreach (var row in new[] { "transcript", "analysis", "content", "chunks" })
        {
            Assert.Equal(1, cluster.Store.RowsOf(id, row));
        }

        // Each step of the pipeline ran once (extracting audio and uploading are one run).
        Assert.Equal(6, cluster.Steps.Runs.Count(r => r.Project == id));
    }

    [Fact]
    public async Task A_transient_failure_retries_only_once_its_backoff_has_passed_on_the_clock()
    {
        var id = Guid.NewGuid();
        cluster.Steps.Then(id, ProjectStep.Transcribing, (_, _, _) => throw StepException.Retryable("The transcription service answered 503."));
        var grain = cluster.Client.GetGrain<IProjectGrain>(id);
        await grain.Create(new CreateProject("user-1", "t", new ProjectSource(ProjectSource.UrlKind, null, "https://example.com/a.mp4", "direct"), true));

        var scheduled = await cluster.Store.WaitForAsync(id, "retry_scheduled");
        Assert.Contains("503", scheduled.Payload);
        Assert.Contains($"\"retryInSeconds\":{ProjectTestCluster.RetryBackoff.TotalSeconds}", scheduled.Payload);
        // The grain's timer ticks several times meanwhile, but the clock has not reached the retry.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, cluster.Steps.RunsOf(id, ProjectStep.Transcribing));
        Assert.Equal(ProjectStatus.Processing, (await grain.Get()).Status);

        cluster.Clock.Advance(ProjectTestCluster.RetryBackoff);
        await cluster.Store.WaitForAsync(id, "completed");
        var transcribing = (await grain.Get()).Steps.Single(s => s.Name == ProjectStep.Transcribing);
        Assert.Equal(("completed", 2), (transcribing.Status, transcribing.Attempts));
        Assert.Equal(2, cluster.Steps.RunsOf(id, ProjectStep.Transcribing));
    }

    [Fact]
    public async Task A_permanent_failure_fails_at_once_and_retry_resumes_from_that_step()
    {
        var id = Guid.NewGuid();
        cluster.Steps.Then(id, ProjectStep.Analyzing, (_, _, _) => throw StepException.Permanent("The content service refused the request."));
        var grain = cluster.Client.GetGrain<IProjectGrain>(id);
        await grain.Create(new CreateProject("user-1", "t", new ProjectSource(ProjectSource.UrlKind, null, "https://example.com/a.mp4", "direct"), true));

        await cluster.Store.WaitForAsync(id, "failed");
        var failed = await grain.Get();
        Assert.Equal(ProjectStatus.Failed, failed.Status);
        Assert.Equal("The content service refused the request.", failed.Error);
        Assert.Equal(1, cluster.Steps.RunsOf(id, ProjectStep.Analyzing));
        await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.Client.GetGrain<IProjectGrain>(Guid.NewGuid()).Retry());

        await grain.Retry();
        await cluster.Store.WaitForAsync(id, "completed");
        Assert.Equal(1, cluster.Steps.RunsOf(id, ProjectStep.Downloading));
        Assert.Equal(1, cluster.Steps.RunsOf(id, ProjectStep.Transcribing));
        Assert.Equal(2, cluster.Steps.RunsOf(id, ProjectStep.Analyzing));
        Assert.Null((await grain.Get()).Error);
    }

    [Fact]
    public async Task Reads_are_answered_while_a_step_runs_and_cancel_reaches_the_step()
    {
        var id = Guid.NewGuid();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.Steps.Then(id, ProjectStep.Transcribing, async (_, progress, cancellationToken) =>
        {
            progress.Report(0.5);
            running.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                stopped.TrySetResult();
            }

            return ScriptedSteps.Output(ProjectStep.Transcribing);
        });
        var grain = cluster.Client.GetGrain<IProjectGrain>(id);
        await grain.Create(new CreateProject("user-1", "t", new ProjectSource(ProjectSource.UrlKind, null, "https://example.com/a.mp4", "direct"), true));
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The grain is not blocked by its running step: it answers reads and reports the step's progress.
        await cluster.Store.WaitForAsync(id, "progress", e => e.Payload.Contains("\"progress\":47", StringComparison.Ordinal));
        var during = await grain.Get().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal((ProjectStatus.Processing, ProjectStep.Transcribing, 47), (during.Status, during.Step, during.Progress));

        var cancelled = await grain.Cancel().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ProjectStatus.Cancelled, cancelled.Status);
        // The step's cancellation token fires within a heartbeat or two.
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ProjectStatus.Cancelled, (await grain.Get()).Status);
        Assert.Equal(0, cluster.Store.RowsOf(id, "transcript"));
        Assert.Equal("cancelled", cluster.Store.Events(id)[^1].Kind);
    }

    [Fact]
    public async Task Results_and_heartbeats_of_another_attempt_are_ignored()
    {
        var id = Guid.NewGuid();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.Steps.Then(id, ProjectStep.Transcribing, async (_, _, _) =>
        {
            running.TrySetResult();
            await release.Task;
            return ScriptedSteps.Output(ProjectStep.Transcribing);
        });
        var grain = cluster.Client.GetGrain<IProjectGrain>(id);
        await grain.Create(new CreateProject("user-1", "t", new ProjectSource(ProjectSource.UrlKind, null, "https://example.com/a.mp4", "direct"), true));
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var before = await grain.Get();

        var owner = cluster.Client.GetGrain<IProjectGrain>(id).AsReference<IStepOwner>();
        var stranger = Guid.NewGuid();
        Assert.False(await owner.Heartbeat(stranger, 1, null));
        await owner.StepSucceeded(stranger, ScriptedSteps.Output(ProjectStep.Transcribing));
        await owner.StepFailed(stranger, "late failure", retryable: false);

        var after = await grain.Get();
        Assert.Equal((before.Status, before.Step, before.EventSeq), (after.Status, after.Step, after.EventSeq));
        Assert.Equal(0, cluster.Store.RowsOf(id, "transcript"));

        release.TrySetResult();
        await cluster.Store.WaitForAsync(id, "completed");
        Assert.Equal(1, cluster.Store.RowsOf(id, "transcript"));
    }

    [Fact]
    public async Task Transcript_parts_are_published_once_in_order_across_attempts_and_a_new_plan_resets_them()
    {
        var id = Guid.NewGuid();
        var grain = cluster.Client.GetGrain<IProjectGrain>(id);
        static TranscribedPart Part(string plan, int index) =>
            new(plan, index, 4, index * 10, index * 10 + 10, $"{plan} part {index}", "en", [new TranscriptSegment(index * 10, index * 10 + 1, $"{plan} part {index}")]);
        var answers = new List<bool>();

        // The first attempt: parts 0 and 1 (1 twice), a part out of order, then a transient failure.
        cluster.Steps.Then(id, ProjectStep.Transcribing, async (request, _, _) =>
        {
            foreach (var part in new[] { Part("a", 0), Part("a", 1), Part("a", 1), Part("a", 3) })
            {
                answers.Add(await grain.TranscriptPart(request.AttemptId, part));
            }

            answers.Add(await grain.TranscriptPart(Guid.NewGuid(), Part("a", 2)));
            throw StepException.Retryable("The decoder crashed.");
        });
        // The retry: it repeats part 1 (not read back), goes on with part 2, then its settings changed: plan b from 0.
        cluster.Steps.Then(id, ProjectStep.Transcribing, async (request, _, _) =>
        {
            foreach (var part in new[] { Part("a", 1), Part("a", 2), Part("b", 0) })
            {
                answers.Add(await grain.TranscriptPart(request.AttemptId, part));
            }

            return ScriptedSteps.Output(ProjectStep.Transcribing);
        });
        await grain.Create(new CreateProject("user-1", "t", new ProjectSource(ProjectSource.UrlKind, null, "https://example.com/a.mp4", "direct"), true));
        await cluster.Store.WaitForAsync(id, "retry_scheduled");
        cluster.Clock.Advance(ProjectTestCluster.RetryBackoff);
        await cluster.Store.WaitForAsync(id, "completed");

        // Every call of the current attempt is answered true (go on); the stranger's false.
        Assert.Equal([true, true, true, true, false, true, true, true], answers);
        var live = cluster.Store.Events(id).Where(e => e.Kind is "transcript_partial" or "transcript_reset" or "transcript_ready").ToList();
        Assert.Equal(["transcript_partial a part 0", "transcript_partial a part 1", "transcript_partial a part 2", "transcript_reset", "transcript_partial b part 0", "transcript_ready"],
            live.Select(e => e.Kind == "transcript_partial" ? $"{e.Kind} {System.Text.Json.JsonDocument.Parse(e.Payload).RootElement.GetProperty("text").GetString()}" : e.Kind));
        Assert.Contains("\"parts\":1", live[^1].Payload);
        // The parts went to the store with their events; the reset asked it to drop plan a's, and the transcript drops the rest.
        Assert.Equal([(0, "a"), (1, "a"), (2, "a"), (0, "b")], cluster.Store.Parts(id).Select(p => (p.Index, p.Plan)));
        Assert.Equal(1, cluster.Store.RowsOf(id, "clear parts"));
    }
}

/// <summary>A silo that stops while it runs a step: the step is handed back and runs again on the other silo.</summary>
public sealed class ProjectFailoverTests(ProjectTestCluster.TwoSilos silos) : IClassFixture<ProjectTestCluster.TwoSilos>
{
    [Fact]
    public async Task A_step_on_a_stopping_silo_runs_again_on_another_and_the_project_completes()
    {
        var cluster = silos.Fixture;
        var id = Guid.NewGuid();
        var running = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.Steps.Then(id, ProjectStep.Transcribing, async (request, _, cancellationToken) =>
        {
            running.TrySetResult(cluster.Steps.Runs.Last(r => r.Attempt == request.AttemptId).Silo);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return ScriptedSteps.Output(ProjectStep.Transcribing);
        });
        var grain = cluster.Client.GetGrain<IProjectGrain>(id);
        await grain.Create(new CreateProject("user-1", "t", new ProjectSource(ProjectSource.UrlKind, null, "https://example.com/a.mp4", "direct"), true));
        var first = await running.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await cluster.Cluster.StopSiloAsync(cluster.Cluster.Silos.Single(s => s.SiloAddress.ToString() == first));
        // The stopping silo hands the step back as a retryable failure: it runs again once the backoff passed.
        await cluster.Store.WaitForAsync(id, "retry_scheduled");
        cluster.Clock.Advance(ProjectTestCluster.RetryBackoff);
        await cluster.Store.WaitForAsync(id, "completed");

        var runs = cluster.Steps.Runs.Where(r => r.Project == id && r.Step == ProjectStep.Transcribing).ToList();
        Assert.Equal(2, runs.Count);
        Assert.NotEqual(first, runs[1].Silo);
        Assert.Equal(2, (await grain.Get()).Steps.Single(s => s.Name == ProjectStep.Transcribing).Attempts);
        Assert.Contains(cluster.Store.Events(id), e => e.Kind == "retry_scheduled" && e.Payload.Contains("stopped", StringComparison.Ordinal));
    }
}

/// <summary>
/// A silo that stops while attempts wait for one of its step slots: those had not begun, so they start again at once on
/// the other silo and are not counted against their step; the attempts that were running are counted and backed off.
/// </summary>
public sealed class ProjectQueuedFailoverTests(ProjectTestCluster.TwoSilos silos) : IClassFixture<ProjectTestCluster.TwoSilos>
{
    [Fact]
    public async Task Attempts_waiting_for_a_slot_on_a_stopping_silo_start_again_at_once_and_are_not_counted()
    {
        var cluster = silos.Fixture;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var projects = new List<(Guid Id, IProjectGrain Grain)>();
        for (var i = 0; i < 6; i++)
        {
            var id = Guid.NewGuid();
            // The first run of each transcription holds its slot until released (or its silo stops).
            cluster.Steps.Then(id, ProjectStep.Transcribing, async (_, _, cancellationToken) =>
            {
                await release.Task.WaitAsync(cancellationToken);
                return ScriptedSteps.Output(ProjectStep.Transcribing);
            });
            var grain = cluster.Client.GetGrain<IProjectGrain>(id);
            await grain.Create(new CreateProject("user-1", $"t{i}", new ProjectSource(ProjectSource.UrlKind, null, "https://example.com/a.mp4", "direct"), true));
            projects.Add((id, grain));
        }

        // Wait until each silo's slots are taken by transcriptions (as many as it has projects, up to its slots): the
        // rest of its projects wait for a slot at whatever step they are.
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<IGrouping<SiloAddress?, (Guid Id, IProjectGrain Grain)>> bySilo;
        var seen = "";
        while (true)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The silos' slots were not all taken: {seen}");
            var located = new List<(SiloAddress? Silo, (Guid, IProjectGrain) Project)>();
            foreach (var project in projects)
            {
                located.Add((await management.GetActivationAddress(project.Grain), project));
            }

            bySilo = located.GroupBy(l => l.Silo, l => l.Project).ToList();
            seen = string.Join("; ", bySilo.Select(g => $"{g.Key}: " + string.Join(",", g.Select(p => cluster.Steps.RunsOf(p.Id, ProjectStep.Transcribing)))));
            var running = bySilo.Sum(g => g.Count(p => cluster.Steps.RunsOf(p.Id, ProjectStep.Transcribing) > 0));
            if (running == bySilo.Sum(g => Math.Min(g.Count(), ProjectTestCluster.StepSlots)))
            {
                break;
            }

            await Task.Delay(100);
        }

        var busiest = bySilo.OrderByDescending(g => g.Count()).First();
        Assert.True(busiest.Count() > ProjectTestCluster.StepSlots);
        var waiting = busiest.Where(p => cluster.Steps.RunsOf(p.Id, ProjectStep.Transcribing) == 0).ToList();

        var wasRunning = busiest.Where(p => cluster.Steps.RunsOf(p.Id, ProjectStep.Transcribing) == 1).ToList();
        Assert.NotEmpty(waiting);

        await cluster.Cluster.StopSiloAsync(cluster.Cluster.Silos.Single(s => s.SiloAddress.Equals(busiest.Key)));
        // The stopping silo hands them back at once. If a hand-back is lost (an attempt being dispatched just as the silo
        // stopped, its take-back not written on a loaded machine), the lease is the backstop: this clock only moves when
        // told, so it is moved then, a second at a time (half the lease: attempts that do send heartbeats every 200 ms
        // keep theirs) until the lost attempt's lease runs out, however late its project is activated again on the
        // other silo (an activation starts a fresh lease from the clock's time then). Either way the attempt starts
        // again at once and is not counted.
        bool AllRequeued() => waiting.All(p => cluster.Store.Events(p.Id).Any(e => e.Kind == "retry_scheduled"));
        var handBack = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < handBack && !AllRequeued())
        {
            await Task.Delay(100);
        }

        // A project whose silo stopped is activated again by its reminder (a minute of real time) or by any call: a
        // status read, as a user's page would make, brings it back now.
        var backstop = DateTime.UtcNow.AddSeconds(45);
        while (DateTime.UtcNow < backstop && !AllRequeued())
        {
            foreach (var (id, grain) in waiting.Where(p => !cluster.Store.Events(p.Id).Any(e => e.Kind == "retry_scheduled")))
            {
                await grain.Get();
            }

            cluster.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(500);
        }

        foreach (var (id, _) in waiting)
        {
            var requeued = await cluster.Store.WaitForAsync(id, "retry_scheduled");
            Assert.Contains("\"retryInSeconds\":0", requeued.Payload);
        }

        // Without moving the clock: the waiting ones run on the other silo once its slots free, and complete.
        release.TrySetResult();
        foreach (var (id, grain) in waiting)
        {
            await cluster.Store.WaitForAsync(id, "completed");
            // The step it waited at, like every other, counts one attempt.
            Assert.All((await grain.Get()).Steps, s => Assert.Equal(1, s.Attempts));
        }

        // The ones that were running lost a real attempt: counted, and retried after the backoff.
        foreach (var (id, grain) in wasRunning)
        {
            var retry = await cluster.Store.WaitForAsync(id, "retry_scheduled");
            Assert.Contains($"\"retryInSeconds\":{ProjectTestCluster.RetryBackoff.TotalSeconds}", retry.Payload);
            Assert.Equal(ProjectStatus.Processing, (await grain.Get()).Status);
        }

        cluster.Clock.Advance(ProjectTestCluster.RetryBackoff);
        foreach (var (id, grain) in wasRunning)
        {
            await cluster.Store.WaitForAsync(id, "completed");
            Assert.Equal(2, (await grain.Get()).Steps.Single(s => s.Name == ProjectStep.Transcribing).Attempts);
        }
    }
}
