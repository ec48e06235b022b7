using MediaActors.Grains.Projects;
using MediaActors.Providers.Google;
using Orleans.Concurrency;

namespace MediaActors.Grains.Publish;

/// <summary>The keys of the publish grains.</summary>
public static class PublishKeys
{
    /// <summary>The quota grain's key: the Google project, known by its OAuth client id.</summary>
    public static string Quota(GoogleOptions options) => string.IsNullOrWhiteSpace(options?.ClientId) ? "default" : options.ClientId;

    /// <summary>The key of a file's duplicate check: its owner and its MD5 (hex).</summary>
    public static string Dedupe(string userId, string md5) => $"{userId}/{md5}";

    /// <summary>A status as the API and the events name it (snake_case).</summary>
    public static string Name(PublishStatus status) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString());
}

/// <summary>The lifecycle of a publish job (DESIGN.md flow 4).</summary>
[GenerateSerializer, Alias("PublishStatus")]
public enum PublishStatus
{
    None,

    /// <summary>Waiting: for a slot, for a retry's backoff, or for the YouTube quota to reset.</summary>
    Pending,

    /// <summary>Copying a Drive file into blob storage (progress 0-50).</summary>
    Downloading,

    /// <summary>Sending the video to YouTube (progress 50-100).</summary>
    Uploading,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>
/// What a job publishes, resolved when it is queued: a blob (a project's source video, an upload or an avatar video) or a Drive file,
/// with its size, type and MD5 (hex), the key of the duplicate check.
/// </summary>
[GenerateSerializer, Alias("PublishSource")]
public sealed record PublishSource(
    [property: Id(0)] string Kind,
    [property: Id(1)] Guid? ProjectId,
    [property: Id(2)] Guid? UploadId,
    [property: Id(3)] string? DriveFileId,
    [property: Id(4)] BlobRef? Blob,
    [property: Id(5)] string Name,
    [property: Id(6)] string ContentType,
    [property: Id(7)] long SizeBytes,
    [property: Id(8)] string Md5,
    [property: Id(9)] Guid? VideoId = null)
{
    public const string ProjectKind = "project";
    public const string UploadKind = "upload";
    public const string DriveKind = "drive";
    public const string VideoKind = "video";
}

/// <summary>Queues a job. <paramref name="FolderId"/> is the folder watch that queued it, if any.</summary>
[GenerateSerializer, Alias("CreatePublishJob")]
public sealed record CreatePublishJob(
    [property: Id(0)] string UserId,
    [property: Id(1)] PublishSource Source,
    [property: Id(2)] VideoMetadata Metadata,
    [property: Id(3)] string? FolderId = null);

/// <summary>Everything a publish job grain says about itself; <see cref="Status"/> is None when no job has this id.</summary>
[GenerateSerializer, Alias("PublishJobView")]
public sealed record PublishJobView(
    [property: Id(0)] Guid Id,
    [property: Id(1)] string UserId,
    [property: Id(2)] PublishStatus Status,
    [property: Id(3)] int Progress,
    [property: Id(4)] PublishSource? Source,
    [property: Id(5)] VideoMetadata? Metadata,
    [property: Id(6)] string? VideoId,
    [property: Id(7)] bool AlreadyOnYouTube,
    [property: Id(8)] string? Error,
    [property: Id(9)] int Attempts,
    [property: Id(10)] DateTimeOffset? RetryAt,
    [property: Id(11)] DateTimeOffset? WaitingForQuotaUntil,
    [property: Id(12)] Guid? DuplicateOf,
    [property: Id(13)] DateTimeOffset CreatedAt,
    [property: Id(14)] DateTimeOffset UpdatedAt,
    [property: Id(15)] long EventSeq)
{
    public bool Exists => Status != PublishStatus.None;
}

/// <summary>One attempt at a publish job, run by the StepRunner on a worker.</summary>
[GenerateSerializer, Alias("PublishRequest")]
public sealed record PublishRequest(
    [property: Id(0)] Guid JobId,
    [property: Id(1)] Guid AttemptId,
    [property: Id(2)] string UserId,
    [property: Id(3)] PublishSource Source,
    [property: Id(4)] VideoMetadata Metadata,
    [property: Id(5)] Uri? Session);

/// <summary>How an attempt ended without failing.</summary>
[GenerateSerializer, Alias("PublishOutcome")]
public enum PublishOutcome
{
    /// <summary>The video was uploaded: <see cref="PublishOutput.VideoId"/> is new.</summary>
    Uploaded,

    /// <summary>The same file was uploaded before and that video still exists: nothing was sent.</summary>
    AlreadyOnYouTube,

    /// <summary>The YouTube quota is used up until <see cref="PublishOutput.QuotaResetsAt"/>: the job waits, no attempt is used.</summary>
    QuotaExceeded,
}

/// <summary>A publish attempt's result.</summary>
[GenerateSerializer, Alias("PublishOutput")]
public sealed record PublishOutput(
    [property: Id(0)] PublishOutcome Outcome,
    [property: Id(1)] string? VideoId,
    [property: Id(2)] DateTimeOffset? QuotaResetsAt);

/// <summary>A publish job (key: its id): owns its state machine, retries, quota waits and the duplicate claim on its file.</summary>
[Alias("publish-job")]
public interface IPublishJobGrain : IGrainWithGuidKey
{
    /// <summary>Queues the job (idempotent). If another live job holds the same file, nothing is created and the view's DuplicateOf names it.</summary>
    [Alias("create")]
    Task<PublishJobView> Create(CreatePublishJob command);

    /// <summary>Reads the job; interleaves with its other calls (the duplicate check asks a holder how it stands).</summary>
    [Alias("get"), AlwaysInterleave]
    Task<PublishJobView> Get();

    [Alias("cancel")]
    Task<PublishJobView> Cancel();

    /// <summary>Queues a failed or cancelled job again (resuming its upload session if it has one); InvalidOperationException otherwise.</summary>
    [Alias("retry")]
    Task<PublishJobView> Retry();

    /// <summary>
    /// The attempt opened a YouTube upload session: the job keeps it, so that any later attempt (on any silo) resumes it from
    /// the offset YouTube confirms. False when the attempt is no longer the job's (it must stop).
    /// </summary>
    [Alias("session-started")]
    Task<bool> SessionStarted(Guid attemptId, Uri session);
}

/// <summary>Who holds a file (one user's, by MD5) for upload, and where it was uploaded before.</summary>
[GenerateSerializer, Alias("DedupeClaim")]
public sealed record DedupeClaim([property: Id(0)] bool Claimed, [property: Id(1)] Guid? HeldBy, [property: Id(2)] string? UploadedVideoId);

/// <summary>
/// The duplicate check of one file (key: "{userId}/{md5}"): at most one live job holds the file at a time, so two jobs for
/// the same file queued at the same moment cannot both upload it; and the videos it became, newest last.
/// </summary>
[Alias("publish-dedupe")]
public interface IPublishDedupeGrain : IGrainWithStringKey
{
    /// <summary>The job takes the file, unless another live job holds it (then <see cref="DedupeClaim.HeldBy"/> says which).</summary>
    [Alias("claim")]
    Task<DedupeClaim> Claim(Guid jobId);

    /// <summary>The video the file was last uploaded as, if any.</summary>
    [Alias("uploaded-video")]
    Task<string?> UploadedVideo();

    /// <summary>The job ended: it lets go of the file and, if it uploaded it, records the video (idempotent).</summary>
    [Alias("release")]
    Task Release(Guid jobId, string? videoId);
}

/// <summary>The YouTube quota of a Google project as MediaActors counts it: the day (Pacific time), units used, the limit, a pause.</summary>
[GenerateSerializer, Alias("QuotaView")]
public sealed record QuotaView(
    [property: Id(0)] DateOnly Day,
    [property: Id(1)] int UsedUnits,
    [property: Id(2)] int DailyLimit,
    [property: Id(3)] DateTimeOffset ResetsAt,
    [property: Id(4)] DateTimeOffset? PausedUntil);

/// <summary>Whether an operation may spend its quota units now; if not, when the quota resets.</summary>
[GenerateSerializer, Alias("QuotaDecision")]
public sealed record QuotaDecision([property: Id(0)] bool Allowed, [property: Id(1)] DateTimeOffset ResetsAt);

/// <summary>
/// The daily YouTube quota of one Google project (key: the OAuth client id): units per call from configuration, reset at
/// midnight Pacific time; Google's own quotaExceeded pauses every job until the reset.
/// </summary>
[Alias("publish-quota")]
public interface IPublishQuotaGrain : IGrainWithStringKey
{
    /// <summary>Spends the units of <paramref name="operation"/> ("videos.insert", "videos.list") if the day's quota has them.</summary>
    [Alias("use")]
    Task<QuotaDecision> Use(string operation);

    /// <summary>Google answered quotaExceeded: nothing more is spent until the reset.</summary>
    [Alias("exhausted")]
    Task<QuotaDecision> Exhausted();

    [Alias("get")]
    Task<QuotaView> Get();
}

/// <summary>The metadata of the jobs a folder watch queues (the title is each file's name).</summary>
[GenerateSerializer, Alias("FolderDefaults")]
public sealed record FolderDefaults(
    [property: Id(0)] string? Description,
    [property: Id(1)] IReadOnlyList<string> Tags,
    [property: Id(2)] string Privacy,
    [property: Id(3)] bool MadeForKids,
    [property: Id(4)] string CategoryId);

/// <summary>
/// Starts watching a Drive folder or a blob prefix (the full blob name prefix in the uploads container, already confined
/// to the user's own area by the API) every <paramref name="Interval"/>.
/// </summary>
[GenerateSerializer, Alias("CreateFolderWatch")]
public sealed record CreateFolderWatch(
    [property: Id(0)] string UserId,
    [property: Id(1)] string? DriveFolderId,
    [property: Id(2)] string? BlobPrefix,
    [property: Id(3)] TimeSpan Interval,
    [property: Id(4)] FolderDefaults Defaults);

/// <summary>A folder watch as its grain reports it; <see cref="Exists"/> is false for an unknown or deleted id.</summary>
[GenerateSerializer, Alias("FolderWatchView")]
public sealed record FolderWatchView(
    [property: Id(0)] Guid Id,
    [property: Id(1)] string UserId,
    [property: Id(2)] bool Exists,
    [property: Id(3)] string? DriveFolderId,
    [property: Id(4)] string? BlobPrefix,
    [property: Id(5)] TimeSpan Interval,
    [property: Id(6)] FolderDefaults? Defaults,
    [property: Id(7)] DateTimeOffset? LastScanAt,
    [property: Id(8)] DateTimeOffset? NextScanAt,
    [property: Id(9)] string? LastError,
    [property: Id(10)] int FilesSeen,
    [property: Id(11)] int JobsQueued,
    [property: Id(12)] DateTimeOffset CreatedAt);

/// <summary>
/// A scheduled scan of a Drive folder or blob prefix (key: its id): a reminder scans it on schedule and queues a publish
/// job for each video it has not seen and that was not uploaded before; a used-up quota postpones the queueing.
/// </summary>
[Alias("publish-folder")]
public interface IFolderWatchGrain : IGrainWithGuidKey
{
    [Alias("create")]
    Task<FolderWatchView> Create(CreateFolderWatch command);

    [Alias("get")]
    Task<FolderWatchView> Get();

    /// <summary>Scans now (as the reminder does); returns the watch afterwards.</summary>
    [Alias("scan")]
    Task<FolderWatchView> Scan();

    /// <summary>Stops watching (the jobs it queued go on).</summary>
    [Alias("delete")]
    Task<FolderWatchView> Delete();
}
