using System.Collections.Concurrent;
using MediaActors.Grains.Projects;
using MediaActors.Providers.Content;
using MediaActors.Providers.Media;
using MediaActors.Providers.Storage;
using MediaActors.Providers.Transcription;
using MediaActors.ServiceDefaults.Database;
using MediaActors.ServiceDefaults.Tests;
using MediaActors.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace MediaActors.Grains.Tests.Projects;

/// <summary>
/// An in-process Orleans cluster running the real ProjectGrain, StepWorkerGrain and StepRunner with grain state and
/// reminders on the ADO.NET providers (a fresh PostgreSQL database), a clock the tests move, steps the tests script and
/// a store that records what the grain writes besides its state.
/// </summary>
public sealed class ProjectTestCluster : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public ProjectTestCluster() : this(silos: 1)
    {
    }

    private ProjectTestCluster(short silos) => Silos = silos;

    public short Silos { get; }

    /// <summary>The clock of every silo (grain decisions: retry due, lease expired); timers and heartbeats run on real time.</summary>
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.Parse("2026-12-02T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    public RecordingStore Store { get; } = new();

    public ScriptedSteps Steps { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    /// <summary>Steps each silo runs at once; further attempts wait for a slot.</summary>
    public const int StepSlots = 2;

    /// <summary>Backoff long enough that only a move of <see cref="Clock"/> lets a retry start.</summary>
    public static readonly TimeSpan RetryBackoff = TimeSpan.FromMinutes(10);

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        var connectionString = _database.ConnectionString;
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            await new SchemaMigrator(dataSource, [], NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        }

        var builder = new InProcessTestClusterBuilder(Silos);
        builder.ConfigureSilo((_, silo) =>
        {
            // The silo's own state, reminder and serializer setup; only the clustering is the test cluster's.
            silo.UseMediaActorsStateAndReminders(connectionString);
            silo.Services.UseGrainClock(Clock);
            silo.Services.AddSingleton<IProjectStore>(Store);
            silo.Services.AddSingleton(new BlobStore(PipelineBlobs));
            silo.Services.AddSingleton(Options.Create(new ProjectOptions
            {
                MaxStepAttempts = 3,
                RetryBackoff = RetryBackoff,
                MaxRetryBackoff = TimeSpan.FromHours(1),
                HeartbeatInterval = TimeSpan.FromMilliseconds(200),
                StepLease = TimeSpan.FromSeconds(2),
                WatchdogPeriod = TimeSpan.FromSeconds(1),
                ShutdownGrace = TimeSpan.Zero,
                StepConcurrency = StepSlots,
            }));
            silo.Services.AddSingleton<StepRunner>();
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<StepRunner>());
            foreach (var step in Enum.GetValues<ProjectStep>())
            {
                silo.Services.AddKeyedSingleton<IProjectStep>(step, (sp, _) => new ScriptedStep(Steps, sp.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString()));
            }
        });
        builder.ConfigureClient(client => client.Services.AddSerializer(s => s.AddMediaActorsContracts()));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    internal static string PipelineBlobs =>
        Environment.GetEnvironmentVariable("MA_TEST_BLOBS") is { Length: > 0 } value
            ? value
            : "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10010/devstoreaccount1;";

    /// <summary>A project from a link, created with its upload complete: it starts at once.</summary>
    public async Task<(Guid Id, IProjectGrain Grain)> CreateAsync()
    {
        var id = Guid.NewGuid();
        var grain = Client.GetGrain<IProjectGrain>(id);
        await grain.Create(new CreateProject("user-1", "A talk", new ProjectSource(ProjectSource.UrlKind, null, "https://example.com/a.mp4", "direct"), true));
        return (id, grain);
    }

    /// <summary>Two silos: for tests that stop one.</summary>
    public sealed class TwoSilos : IAsyncLifetime
    {
        public ProjectTestCluster Fixture { get; } = new(silos: 2);

        public Task InitializeAsync() => Fixture.InitializeAsync();

        public Task DisposeAsync() => Fixture.DisposeAsync();
    }
}

/// <summary>What a step does on its next runs for one project; unscripted runs succeed with a canned result.</summary>
public sealed class ScriptedSteps
{
    public delegate Task<StepOutput> Behaviour(StepRequest request, IStepProgress progress, CancellationToken cancellationToken);

    private readonly ConcurrentDictionary<(Guid, ProjectStep), ConcurrentQueue<Behaviour>> _scripts = new();

    /// <summary>Every run, in order: project, step, attempt id, and the silo it ran on.</summary>
    public ConcurrentQueue<(Guid Project, ProjectStep Step, Guid Attempt, string Silo)> Runs { get; } = new();

    /// <summary>The next run of <paramref name="step"/> for <paramref name="project"/> does this (then the next scripted one, then succeeds).</summary>
    public void Then(Guid project, ProjectStep step, Behaviour behaviour) => _scripts.GetOrAdd((project, step), _ => new()).Enqueue(behaviour);

    public int RunsOf(Guid project, ProjectStep step) => Runs.Count(r => r.Project == project && r.Step == step);

    internal Task<StepOutput> RunAsync(StepRequest request, IStepProgress progress, string silo, CancellationToken cancellationToken)
    {
        var step = request.Step == ProjectStep.Uploading ? ProjectStep.ExtractingAudio : request.Step;
        Runs.Enqueue((request.ProjectId, step, request.AttemptId, silo));
        return _scripts.TryGetValue((request.ProjectId, step), out var queue) && queue.TryDequeue(out var behaviour)
            ? behaviour(request, progress, cancellationToken)
            : Task.FromResult(Output(step));
    }

    public static StepOutput Output(ProjectStep step) => step switch
    {
        ProjectStep.Downloading => new(Ingest: new IngestOutput(new BlobRef("videos", "user-1/p/source.mp4"), 1000, "0123456789abcdef0123456789abcdef", "A talk")),
        ProjectStep.ExtractingAudio or ProjectStep.Uploading => new(Media: new MediaOutput(new MediaInfo(12.5, "mp4", "h264", 640, 360, "aac", 44100, 2),
            new BlobRef("audio", "user-1/p/audio.wav"), new BlobRef("audio", "user-1/p/audio.mp3"), new BlobRef("thumbnails", "user-1/p/thumbnail.jpg"))),
        ProjectStep.Transcribing => new(Transcript: new Transcript("en", "hello world", [new TranscriptSegment(0, 1.5, "hello world")], "fake", "fake-1")),
        ProjectStep.Analyzing => new(Analysis: new Analysis("A greeting.", ["greetings"], "positive", 0.5, "talk", "fake", "fake-1")),
        ProjectStep.GeneratingContent => new(Content: new GeneratedContent("Hello", "# Hello", ["hello"], "Hello.", "fake", "fake-1")),
        _ => new(Embeddings: new EmbedOutput([new TranscriptChunk(0, 0, 1.5, "hello world", [1f, 0f])], "fake", "fake-1")),
    };
}

/// <summary>The step implementation every silo gets for every step: runs what <see cref="ScriptedSteps"/> says.</summary>
public sealed class ScriptedStep(ScriptedSteps steps, string silo) : IProjectStep
{
    public Task<StepOutput> RunAsync(StepRequest request, IStepProgress progress, CancellationToken cancellationToken) =>
        steps.RunAsync(request, progress, silo, cancellationToken);
}

/// <summary>Records the grain's writes besides its state, keeping events once per (project, seq) as the events table does.</summary>
public sealed class RecordingStore : IProjectStore
{
    private readonly ConcurrentDictionary<Guid, SortedDictionary<long, OutboxEvent>> _events = new();
    private readonly ConcurrentDictionary<Guid, List<TaskCompletionSource>> _waiters = new();

    public ConcurrentQueue<(Guid Project, string Row)> Rows { get; } = new();

    public IReadOnlyList<OutboxEvent> Events(Guid project)
    {
        var events = _events.GetOrAdd(project, _ => new());
        lock (events)
        {
            return events.Values.ToList();
        }
    }

    public int RowsOf(Guid project, string row) => Rows.Count(r => r.Project == project && r.Row == row);

    /// <summary>Completes when an event of <paramref name="kind"/> (and matching <paramref name="where"/>) was written, or fails after 30 s.</summary>
    public async Task<OutboxEvent> WaitForAsync(Guid project, string kind, Func<OutboxEvent, bool>? where = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var found = Events(project).FirstOrDefault(e => e.Kind == kind && (where?.Invoke(e) ?? true));
            if (found is not null)
            {
                return found;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var waiters = _waiters.GetOrAdd(project, _ => []);
            lock (waiters)
            {
                waiters.Add(signal);
            }

            // Re-check after registering, so an event written in between is not missed.
            if (Events(project).Any(e => e.Kind == kind && (where?.Invoke(e) ?? true)))
            {
                continue;
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero || await Task.WhenAny(signal.Task, Task.Delay(remaining)) != signal.Task)
            {
                throw new TimeoutException($"No '{kind}' event for project {project}; events: {string.Join(", ", Events(project).Select(e => $"{e.Seq}:{e.Kind}"))}");
            }
        }
    }

    /// <summary>The transcript parts flushed, in the order they were written.</summary>
    public IReadOnlyList<TranscribedPart> Parts(Guid project) => [.. _parts.Where(p => p.Project == project).Select(p => p.Part)];

    private readonly ConcurrentQueue<(Guid Project, TranscribedPart Part)> _parts = new();

    public Task FlushAsync(Guid projectId, ProjectState state, CancellationToken cancellationToken = default)
    {
        if (state.Partial is { } partial)
        {
            if (partial.Clear)
            {
                Rows.Enqueue((projectId, "clear parts"));
            }

            foreach (var part in partial.Pending)
            {
                _parts.Enqueue((projectId, part));
            }
        }

        var events = _events.GetOrAdd(projectId, _ => new());
        lock (events)
        {
            foreach (var e in state.Outbox)
            {
                events.TryAdd(e.Seq, e);
            }
        }

        if (_waiters.TryGetValue(projectId, out var waiters))
        {
            lock (waiters)
            {
                waiters.ForEach(w => w.TrySetResult());
                waiters.Clear();
            }
        }

        return Task.CompletedTask;
    }

    public Task SaveTranscriptAsync(Guid projectId, string userId, Transcript transcript, CancellationToken cancellationToken = default) => Record(projectId, "transcript");

    public Task SaveAnalysisAsync(Guid projectId, string userId, Analysis analysis, CancellationToken cancellationToken = default) => Record(projectId, "analysis");

    public Task SaveContentAsync(Guid projectId, string userId, GeneratedContent content, CancellationToken cancellationToken = default) => Record(projectId, "content");

    public Task SaveChunksAsync(Guid projectId, string userId, EmbedOutput embeddings, CancellationToken cancellationToken = default) => Record(projectId, "chunks");

    public Task<(string Status, DateTimeOffset ExpiresAt)?> UploadStatusAsync(Guid uploadId, CancellationToken cancellationToken = default) =>
        Task.FromResult<(string, DateTimeOffset)?>(null);

    private Task Record(Guid project, string row)
    {
        Rows.Enqueue((project, row));
        return Task.CompletedTask;
    }
}
