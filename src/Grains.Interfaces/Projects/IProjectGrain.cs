using MediaActors.Runtime;

namespace MediaActors.Grains.Projects;

/// <summary>The lifecycle of a video project (DESIGN.md flow 1).</summary>
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
public sealed record ProjectSource(string Kind, Guid? UploadId, string? Url, string? Platform)
{
    public const string UploadKind = "upload";
    public const string UrlKind = "url";
}

/// <summary>Creates a project; <paramref name="UploadComplete"/> is false while the client is still uploading.</summary>
public sealed record CreateProject(string UserId, string Title, ProjectSource Source, bool UploadComplete);

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

/// <summary>What a project grain reports about itself.</summary>
public sealed record ProjectSnapshot(
    string Id,
    string UserId,
    string Title,
    ProjectStatus Status,
    ProjectStep? Step,
    int Progress,
    string? Error);

/// <summary>A video project: owns its state machine, its retries and its results.</summary>
[GrainType("project")]
public interface IProjectGrain : IGrain
{
    /// <summary>Creates the project (idempotent: a second call returns the existing project).</summary>
    Task<ProjectSnapshot> Create(CreateProject command);

    /// <summary>The project's upload finished: it can start.</summary>
    Task<ProjectSnapshot> UploadCompleted();

    /// <summary>The project's upload expired before it was completed: a project still waiting for it fails.</summary>
    [OneWay]
    Task UploadExpired(DateTimeOffset expiredAt);

    /// <summary>Stops the project from any non-final state, including a running step.</summary>
    Task<ProjectSnapshot> Cancel();

    /// <summary>Resumes a failed or cancelled project from the step that did not finish.</summary>
    Task<ProjectSnapshot> Retry();

    /// <summary>Removes the project's rows now and its blobs in the background.</summary>
    Task<ProjectSnapshot> Delete();

    Task<ProjectSnapshot> Get();
}
