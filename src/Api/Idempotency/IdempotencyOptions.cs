namespace MediaActors.Api.Idempotency;

/// <summary>How the API hosts keep Idempotency-Keys (section "Idempotency"; the silos read <c>SweepInterval</c> there too).</summary>
public sealed class IdempotencyOptions
{
    /// <summary>How long a key is remembered from its first use: within it the same key replays the first answer.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The claim of a request that runs a create: renewed by its heartbeats every third of it while it runs, so a retry takes
    /// the work over only when the API host running it died (this long after its last heartbeat).
    /// </summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a request with the key of a request still running waits for its answer before it gets 409.</summary>
    public TimeSpan WaitForInProgress { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest answer kept for replay (create answers are a few KiB); a larger one is not kept, and a retry creates again with the same id.</summary>
    public int MaxResponseBytes { get; set; } = 64 * 1024;
}
