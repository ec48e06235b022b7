using MediaActors.Providers.Media;

namespace MediaActors.Grains.Projects;

/// <summary>A project's persistent state. Add properties freely; never rename one.</summary>
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

    public Guid? CurrentWork { get; set; }

    /// <summary>The step a retry reminder will start again, or the step that failed.</summary>
    public ProjectStep? PendingStep { get; set; }

    public Dictionary<ProjectStep, StepRecord> Steps { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A blob's container and name.</summary>
public sealed record BlobRef(string Container, string Name);
