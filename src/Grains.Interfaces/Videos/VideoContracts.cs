using MediaActors.Grains.Projects;
using MediaActors.Providers.Media;
using Orleans.Concurrency;

namespace MediaActors.Grains.Videos;

/// <summary>The lifecycle of an avatar video (DESIGN.md flow 5).</summary>
[GenerateSerializer, Alias("VideoStatus")]
public enum VideoStatus
{
    None,

    /// <summary>Recorded; being dispatched to the generator (or waiting for a retry of the dispatch).</summary>
    Pending,

    /// <summary>The generator accepted it; waiting for its callback, then downloading the result.</summary>
    Processing,
    Ready,
    Failed,
    Cancelled,
    Deleted,
}

/// <summary>An avatar or a voice of the catalog, as a video records it.</summary>
[GenerateSerializer, Alias("CatalogEntry")]
public sealed record CatalogEntry([property: Id(0)] string Id, [property: Id(1)] string Name, [property: Id(2)] string? Gender);

/// <summary>
/// Records a video request: <paramref name="Kind"/> is "prompt" (POST /api/videos) or "script" (POST /api/videos/generate);
/// <paramref name="RequestJson"/> is the validated request as the generator receives it.
/// </summary>
[GenerateSerializer, Alias("CreateVideo")]
public sealed record CreateVideo(
    [property: Id(0)] string UserId,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Title,
    [property: Id(3)] string RequestJson,
    [property: Id(4)] CatalogEntry? Avatar,
    [property: Id(5)] CatalogEntry? Voice,
    [property: Id(6)] DateTimeOffset EstimatedReadyAt);

/// <summary>Everything a video grain says about itself; <see cref="Status"/> is None when no video has this id.</summary>
[GenerateSerializer, Alias("VideoView")]
public sealed record VideoView(
    [property: Id(0)] Guid Id,
    [property: Id(1)] string UserId,
    [property: Id(2)] VideoStatus Status,
    [property: Id(3)] string Kind,
    [property: Id(4)] string Title,
    [property: Id(5)] CatalogEntry? Avatar,
    [property: Id(6)] CatalogEntry? Voice,
    [property: Id(7)] string? Error,
    [property: Id(8)] BlobRef? Blob,
    [property: Id(9)] long? SizeBytes,
    [property: Id(10)] MediaInfo? Media,
    [property: Id(11)] string? ExecutionId,
    [property: Id(12)] DateTimeOffset CreatedAt,
    [property: Id(13)] DateTimeOffset? DispatchedAt,
    [property: Id(14)] DateTimeOffset? ReadyAt,
    [property: Id(15)] DateTimeOffset EstimatedReadyAt,
    [property: Id(16)] int LateCallbacks,
    [property: Id(17)] long EventSeq)
{
    public bool Exists => Status is not (VideoStatus.None or VideoStatus.Deleted);
}

/// <summary>What became of a webhook call.</summary>
[GenerateSerializer, Alias("WebhookOutcome")]
public enum WebhookOutcome
{
    /// <summary>It moved the video on.</summary>
    Applied,

    /// <summary>An event id seen before: nothing done again.</summary>
    Replay,

    /// <summary>The video had already ended (timed out, cancelled, failed, ready): recorded, not applied.</summary>
    Late,

    /// <summary>No such video.</summary>
    Unknown,
}

/// <summary>One attempt at a video's work on a worker: dispatching it, or downloading its result.</summary>
[GenerateSerializer, Alias("VideoWorkRequest")]
public sealed record VideoWorkRequest(
    [property: Id(0)] Guid VideoId,
    [property: Id(1)] Guid AttemptId,
    [property: Id(2)] string UserId,
    [property: Id(3)] string Kind,
    [property: Id(4)] string Title,
    [property: Id(5)] string RequestJson,
    [property: Id(6)] CatalogEntry? Avatar,
    [property: Id(7)] CatalogEntry? Voice,
    [property: Id(8)] Uri? ResultUrl,
    [property: Id(9)] BlobRef? Target);

/// <summary>A video attempt's result: the generator's execution id after a dispatch, or the stored file after a download.</summary>
[GenerateSerializer, Alias("VideoOutput")]
public sealed record VideoOutput(
    [property: Id(0)] bool Dispatched,
    [property: Id(1)] string? ExecutionId,
    [property: Id(2)] BlobRef? Blob,
    [property: Id(3)] long SizeBytes,
    [property: Id(4)] MediaInfo? Media);

/// <summary>An avatar video (key: its id): dispatch with retries, the generator's callbacks (once each), the result's download, a timeout.</summary>
[Alias("video")]
public interface IVideoGrain : IGrainWithGuidKey
{
    [Alias("create")]
    Task<VideoView> Create(CreateVideo command);

    [Alias("get"), AlwaysInterleave]
    Task<VideoView> Get();

    /// <summary>The generator's completion webhook: the result is at <paramref name="videoUrl"/>.</summary>
    [Alias("completed")]
    Task<WebhookOutcome> Completed(string eventId, Uri videoUrl);

    /// <summary>The generator's workflow-error webhook.</summary>
    [Alias("workflow-failed")]
    Task<WebhookOutcome> WorkflowFailed(string eventId, string message);

    [Alias("cancel")]
    Task<VideoView> Cancel();

    /// <summary>Removes the video, its row and its file.</summary>
    [Alias("delete")]
    Task<VideoView> Delete();
}
