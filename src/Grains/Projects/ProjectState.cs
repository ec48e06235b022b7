using MediaActors.Providers.Media;

namespace MediaActors.Grains.Projects;

/// <summary>
/// A project's persistent state, stored as JSON by the ADO.NET grain storage (see JsonGrainStateSerializer): add
/// properties freely, never rename one. It holds what the grain needs to resume after any crash: the attempt in
/// flight, the retry due, and the effects (events, read-model row, blob cleanup) not yet confirmed written.
/// </summary>
public sealed class ProjectState
{
    public string UserId { get; set; } = "";

    public string Title { get; set; } = "";

    public ProjectStatus Status { get; set; } = ProjectStatus.None;

    public ProjectStep? Step { get; set; }

    public int Progress { get; set; }

    public string? Error { get; set; }

    public ProjectSource? Source { get; set; }

    /// <summary>The source video in blob storage (the upload's blob, or the downloaded link's).</summary>
    public BlobRef? Video { get; set; }

    public long? SizeBytes { get; set; }

    public string? Md5 { get; set; }

    public MediaInfo? Media { get; set; }

    public BlobRef? Audio { get; set; }

    public BlobRef? CompressedAudio { get; set; }

    public BlobRef? Thumbnail { get; set; }

    /// <summary>The upload completed before the project was created.</summary>
    public bool UploadReady { get; set; }

    /// <summary>When the upload expired, if that was said before the project was created.</summary>
    public DateTimeOffset? UploadExpiredAt { get; set; }

    /// <summary>The step attempt in flight: its results and heartbeats carry this id; anything else is stale.</summary>
    public StepAttempt? Attempt { get; set; }

    /// <summary>The step a retry will start again, or the step that failed.</summary>
    public ProjectStep? PendingStep { get; set; }

    /// <summary>When the backoff before the next attempt of <see cref="PendingStep"/> ends.</summary>
    public DateTimeOffset? RetryAt { get; set; }

    public Dictionary<ProjectStep, StepRecord> Steps { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Bumped on every change; the read-model row is only ever replaced by a higher version.</summary>
    public long Version { get; set; }

    /// <summary>The sequence number of the project's last event.</summary>
    public long EventSeq { get; set; }

    /// <summary>Events written with this state but not yet confirmed in the events table (re-sent on activation; duplicates are ignored).</summary>
    public List<OutboxEvent> Outbox { get; set; } = [];

    /// <summary>Blobs of a deleted project not yet confirmed deleted.</summary>
    public List<BlobRef> BlobsToDelete { get; set; } = [];

    /// <summary>The live transcript of the transcribing step: which parts were published; null before the first and after the step.</summary>
    public PartialTranscript? Partial { get; set; }
}

/// <summary>
/// The parts of a running transcription published so far: parts 0..<see cref="Next"/>-1 of plan <see cref="Plan"/>.
/// Parts written with this state but not yet confirmed in table transcript_parts are in <see cref="Pending"/>
/// (flushed with the events, like the outbox); <see cref="Clear"/> asks the flush to drop the rows of an earlier plan.
/// </summary>
public sealed class PartialTranscript
{
    public string Plan { get; set; } = "";

    public int Next { get; set; }

    public int Count { get; set; }

    public List<MediaActors.Providers.Transcription.TranscribedPart> Pending { get; set; } = [];

    public bool Clear { get; set; }
}

/// <summary>
/// One step attempt: its id, step and start, and whether it began running (it got one of its silo's step slots) or was
/// only waiting for one: an attempt lost while waiting is not counted against the step.
/// </summary>
public sealed record StepAttempt(Guid Id, ProjectStep Step, DateTimeOffset StartedAt, bool Running = false);

/// <summary>An event with its per-project sequence number; <see cref="Payload"/> is a JSON object.</summary>
public sealed record OutboxEvent(long Seq, string Kind, string Payload, DateTimeOffset At);

/// <summary>One step's record: status (pending, running, completed, failed, cancelled), attempts, timings, error, provider.</summary>
public sealed class StepRecord
{
    public string Status { get; set; } = "pending";

    public int Attempts { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public string? Error { get; set; }

    public string? Provider { get; set; }
}
