namespace MediaActors.Runtime;

/// <summary>Settings of the actor runtime (configuration section "Runtime").</summary>
public sealed class RuntimeOptions
{
    /// <summary>A readable name for this silo; a unique id is derived from it per start.</summary>
    public string SiloName { get; set; } = Environment.MachineName;

    /// <summary>How many turn batches a silo runs at once (each on its own connection).</summary>
    public int TurnConcurrency { get; set; } = 4;

    /// <summary>The most grains one batch takes.</summary>
    public int MaxGrainsPerBatch { get; set; } = 64;

    /// <summary>The most messages one batch takes.</summary>
    public int MaxMessagesPerBatch { get; set; } = 512;

    /// <summary>How often a silo looks for due work even without a notification.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Default timeout of a request/response call.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a one-way message whose turn throws is tried before it is dead-lettered.</summary>
    public int MaxMessageAttempts { get; set; } = 5;

    /// <summary>How long a work item's lease lasts without a heartbeat.</summary>
    public TimeSpan WorkLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often silos write their heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A silo silent for this long is declared dead and its leases are released.</summary>
    public TimeSpan SiloDeadAfter { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>On shutdown, how long running work items get to finish before their leases are released.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Work concurrency per kind of work for this silo; kinds not listed use <see cref="DefaultWorkConcurrency"/>.</summary>
    public Dictionary<string, int> WorkConcurrency { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Concurrency of a kind of work that has no entry in <see cref="WorkConcurrency"/>.</summary>
    public int DefaultWorkConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>How long replies are kept for callers that missed their notification.</summary>
    public TimeSpan ReplyRetention { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long finished work items (succeeded, failed, cancelled) and their attempts are kept; zero keeps them forever.</summary>
    public TimeSpan FinishedWorkRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long events are kept for clients that catch up (after=N); zero keeps them forever.</summary>
    public TimeSpan EventRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long messages that failed every attempt are kept for inspection; zero keeps them forever.</summary>
    public TimeSpan DeadMessageRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often one silo deletes what is past its retention.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(10);
}
