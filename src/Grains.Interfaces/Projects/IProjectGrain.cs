namespace MediaActors.Grains.Projects;

/// <summary>A video project, keyed by its id: owns its state machine, its retries and its results.</summary>
[Alias("project")]
public interface IProjectGrain : IGrainWithGuidKey
{
    /// <summary>Creates the project (idempotent: a second call returns the existing project).</summary>
    [Alias("create")]
    Task<ProjectView> Create(CreateProject command);

    /// <summary>The project's upload finished: it can start.</summary>
    [Alias("upload-completed")]
    Task<ProjectView> UploadCompleted();

    /// <summary>The project's upload expired before it was completed: a project still waiting for it fails.</summary>
    [Alias("upload-expired")]
    Task UploadExpired(DateTimeOffset expiredAt);

    /// <summary>Stops the project from any non-final state, including a running step.</summary>
    [Alias("cancel")]
    Task<ProjectView> Cancel();

    /// <summary>Resumes a failed or cancelled project from the step that did not finish; InvalidOperationException otherwise.</summary>
    [Alias("retry")]
    Task<ProjectView> Retry();

    /// <summary>Removes the project's rows and blobs.</summary>
    [Alias("delete")]
    Task<ProjectView> Delete();

    [Alias("get")]
    Task<ProjectView> Get();

    /// <summary>
    /// A part of the transcript that attempt <paramref name="attemptId"/> finished, sent in time order: published as a
    /// transcript_partial event once (a part already published is ignored). False means stop sending (stale attempt).
    /// </summary>
    [Alias("transcript-part")]
    Task<bool> TranscriptPart(Guid attemptId, MediaActors.Providers.Transcription.TranscribedPart part);
}
