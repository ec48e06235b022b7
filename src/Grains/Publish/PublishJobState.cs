using MediaActors.Grains.Projects;
using MediaActors.Providers.Google;

namespace MediaActors.Grains.Publish;

/// <summary>A publish job's state, written by its grain before anything it decides takes effect.</summary>
public sealed class PublishJobState
{
    public PublishStatus Status { get; set; }

    public string UserId { get; set; } = "";

    public PublishSource? Source { get; set; }

    public VideoMetadata? Metadata { get; set; }

    /// <summary>The folder watch that queued the job, if one did.</summary>
    public string? FolderId { get; set; }

    public int Progress { get; set; }

    public string? Error { get; set; }

    /// <summary>Attempts used (a quota wait, or an attempt lost before it began, uses none).</summary>
    public int Attempts { get; set; }

    /// <summary>The attempt in flight, if any.</summary>
    public PublishAttempt? Attempt { get; set; }

    /// <summary>When the next attempt starts (a retry's backoff, or the quota's reset).</summary>
    public DateTimeOffset? RetryAt { get; set; }

    /// <summary>Set while the job waits for the YouTube quota to reset.</summary>
    public DateTimeOffset? WaitingForQuotaUntil { get; set; }

    /// <summary>The YouTube resumable upload session: every later attempt resumes it from the offset YouTube confirms.</summary>
    public Uri? Session { get; set; }

    public string? VideoId { get; set; }

    /// <summary>True when the job completed without uploading: the same file was already on YouTube.</summary>
    public bool AlreadyOnYouTube { get; set; }

    /// <summary>The job holds its file's duplicate claim (released, with the video it became, once the job ends).</summary>
    public bool HoldsFile { get; set; }

    /// <summary>The staged copy of a Drive file is to be deleted (the job ended).</summary>
    public bool StagingToDelete { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>Bumped by every change; the read-model row is only replaced by a higher version.</summary>
    public long Version { get; set; }

    public long EventSeq { get; set; }

    /// <summary>Events written with the state and not yet in the event log.</summary>
    public List<OutboxEvent> Outbox { get; set; } = [];
}

/// <summary>An attempt in flight; <paramref name="Running"/> once it got a slot (losing it from then on counts).</summary>
public sealed record PublishAttempt(Guid Id, DateTimeOffset StartedAt, bool Running = false);
