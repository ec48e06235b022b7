using MediaActors.Providers.Content;
using MediaActors.Providers.Media;
using MediaActors.Providers.Transcription;

namespace MediaActors.Grains.Projects;

/// <summary>One attempt at one step of a project: everything the step needs, and the attempt id its reports carry.</summary>
[GenerateSerializer, Alias("StepRequest")]
public sealed record StepRequest(
    Guid ProjectId,
    Guid AttemptId,
    ProjectStep Step,
    string UserId,
    string Title,
    ProjectSource? Source,
    BlobRef? Video,
    BlobRef? Audio,
    BlobRef? CompressedAudio,
    double DurationSeconds);

/// <summary>Downloading's result: the source video in blob storage.</summary>
[GenerateSerializer, Alias("IngestOutput")]
public sealed record IngestOutput(BlobRef Video, long SizeBytes, string Md5, string? Title);

/// <summary>Extracting audio and uploading's result: metadata, the WAV, a compressed copy and a thumbnail.</summary>
[GenerateSerializer, Alias("MediaOutput")]
public sealed record MediaOutput(MediaInfo Media, BlobRef Audio, BlobRef? CompressedAudio, BlobRef? Thumbnail);

/// <summary>One searchable passage of a transcript with its embedding.</summary>
[GenerateSerializer, Alias("TranscriptChunk")]
public sealed record TranscriptChunk(int Index, double Start, double End, string Text, float[] Embedding);

/// <summary>Generating embeddings' result.</summary>
[GenerateSerializer, Alias("EmbedOutput")]
public sealed record EmbedOutput(IReadOnlyList<TranscriptChunk> Chunks, string Provider, string Model);

/// <summary>What a step produced; exactly the field of its step is set.</summary>
[GenerateSerializer, Alias("StepOutput")]
public sealed record StepOutput(
    IngestOutput? Ingest = null,
    MediaOutput? Media = null,
    Transcript? Transcript = null,
    Analysis? Analysis = null,
    GeneratedContent? Content = null,
    EmbedOutput? Embeddings = null,
    MediaActors.Grains.Publish.PublishOutput? Publish = null,
    MediaActors.Grains.Videos.VideoOutput? Video = null);

/// <summary>The grain that owns a step attempt: it receives the attempt's heartbeats and its outcome, tagged with the attempt id.</summary>
[Alias("step-owner")]
public interface IStepOwner : IGrainWithGuidKey
{
    /// <summary>
    /// The attempt is alive at <paramref name="fraction"/> (0-1) of its step; false means stop (cancelled or superseded).
    /// The note <see cref="StepNotes.Running"/> says it got a slot and began; until then it was only waiting.
    /// </summary>
    [Alias("heartbeat")]
    Task<bool> Heartbeat(Guid attemptId, double fraction, string? note);

    [Alias("step-succeeded")]
    Task StepSucceeded(Guid attemptId, StepOutput output);

    /// <summary>The attempt failed; <paramref name="retryable"/> says whether another attempt may succeed.</summary>
    [Alias("step-failed")]
    Task StepFailed(Guid attemptId, string error, bool retryable);

    /// <summary>The attempt never began (its silo is stopping while it waited for a slot): it runs elsewhere at once and is not counted.</summary>
    [Alias("step-not-started")]
    Task StepNotStarted(Guid attemptId);
}

/// <summary>The notes a heartbeat may carry.</summary>
public static class StepNotes
{
    /// <summary>The attempt got its slot and began (until then it only waited).</summary>
    public const string Running = "running";

    /// <summary>The media step finished its ffmpeg work and is uploading its results (the project moves to "uploading"); a publish job began sending the video to YouTube.</summary>
    public const string Uploading = "uploading";
}

/// <summary>Runs steps on the silo it is called from; <see cref="Start"/> returns once the step is accepted, not when it ends.</summary>
[Alias("step-worker")]
public interface IStepWorker : IGrainWithIntegerKey
{
    [Alias("start")]
    Task Start(StepRequest request);

    /// <summary>Runs one attempt of a publish job (download from Drive, upload to YouTube) on this silo.</summary>
    [Alias("start-publish")]
    Task StartPublish(MediaActors.Grains.Publish.PublishRequest request);

    /// <summary>Runs one attempt of an avatar video's work (dispatch to the generator, or download of its result) on this silo.</summary>
    [Alias("start-video")]
    Task StartVideo(MediaActors.Grains.Videos.VideoWorkRequest request);
}
