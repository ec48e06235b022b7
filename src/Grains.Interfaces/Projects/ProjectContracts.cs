using MediaActors.Providers.Media;

namespace MediaActors.Grains.Projects;

/// <summary>The lifecycle of a video project (DESIGN.md flow 1).</summary>
[GenerateSerializer, Alias("ProjectStatus")]
public enum ProjectStatus
{
    None,
    Uploading,
    Queued,
    Processing,
    Completed,
    Failed,
    Cancelled,
    Deleted,
}

/// <summary>The processing steps, in order.</summary>
[GenerateSerializer, Alias("ProjectStep")]
public enum ProjectStep
{
    Downloading,
    ExtractingAudio,
    Uploading,
    Transcribing,
    Analyzing,
    GeneratingContent,
    GeneratingEmbeddings,
    Storing,
}

/// <summary>Where a project's video comes from: a direct upload, or a link.</summary>
[GenerateSerializer, Alias("ProjectSource")]
public sealed record ProjectSource(string Kind, Guid? UploadId, string? Url, string? Platform)
{
    public const string UploadKind = "upload";
    public const string UrlKind = "url";
}

/// <summary>A blob's container and name.</summary>
[GenerateSerializer, Alias("BlobRef")]
public sealed record BlobRef(string Container, string Name);

/// <summary>Creates a project; <paramref name="UploadComplete"/> is false while the client is still uploading.</summary>
[GenerateSerializer, Alias("CreateProject")]
public sealed record CreateProject(string UserId, string Title, ProjectSource Source, bool UploadComplete);

/// <summary>One step of a project as clients see it: status (pending, running, completed, failed, cancelled), attempts, timings, error, provider.</summary>
[GenerateSerializer, Alias("StepView")]
public sealed record StepView(ProjectStep Name, string Status, int Attempts, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Error, string? Provider);

/// <summary>Everything a project grain says about itself; <see cref="Status"/> is None when no project has this id.</summary>
[GenerateSerializer, Alias("ProjectView")]
public sealed record ProjectView(
    Guid Id,
    string UserId,
    string Title,
    ProjectStatus Status,
    ProjectStep? Step,
    int Progress,
    string? Error,
    ProjectSource? Source,
    MediaInfo? Media,
    BlobRef? Video,
    BlobRef? Thumbnail,
    IReadOnlyList<StepView> Steps,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    long EventSeq)
{
    /// <summary>True when the project exists (it was created and not deleted).</summary>
    public bool Exists => Status is not (ProjectStatus.None or ProjectStatus.Deleted);
}
