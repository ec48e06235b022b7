using MediaActors.Providers.Content;
using MediaActors.Providers.Media;

namespace MediaActors.Grains.Projects;

/// <summary>The work item kinds of the project pipeline.</summary>
public static class WorkKinds
{
    public const string Ingest = "project.ingest";
    public const string Media = "project.media";
    public const string Transcribe = "project.transcribe";
    public const string Analyze = "project.analyze";
    public const string Generate = "project.generate";
    public const string Embed = "project.embed";
    public const string Cleanup = "project.cleanup";
}

public sealed record IngestPayload(string ProjectId, string UserId, ProjectSource Source);

public sealed record IngestOutput(BlobRef Video, long SizeBytes, string Md5, string? Title);

public sealed record MediaPayload(string ProjectId, string UserId, BlobRef Video);

public sealed record MediaOutput(MediaInfo Media, BlobRef Audio, BlobRef CompressedAudio, BlobRef? Thumbnail);

public sealed record TranscribePayload(string ProjectId, BlobRef Audio, BlobRef? CompressedAudio, double DurationSeconds);

public sealed record ProjectPayload(string ProjectId, string Title);

public sealed record TranscriptChunk(int Index, double Start, double End, string Text, float[] Embedding);

public sealed record EmbedOutput(IReadOnlyList<TranscriptChunk> Chunks, string Provider, string Model);

public sealed record CleanupPayload(string ProjectId, IReadOnlyList<BlobRef> Blobs);

public sealed record GenerateOutput(Analysis Analysis, GeneratedContent Content);
