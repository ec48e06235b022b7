using MediaActors.Grains.Projects;
using Microsoft.Extensions.Logging;

namespace MediaActors.Grains.Publish;

public sealed class PublishDedupeState
{
    /// <summary>The live job that holds the file, and since when.</summary>
    public Guid? HeldBy { get; set; }

    public DateTimeOffset? HeldSince { get; set; }

    /// <summary>The videos the file was uploaded as, oldest first, with the job that uploaded each.</summary>
    public List<UploadedVideo> Uploads { get; set; } = [];
}

public sealed record UploadedVideo(Guid JobId, string VideoId, DateTimeOffset At);

/// <summary>
/// One user's file, by MD5: the only place that decides which job may upload it. A claim is a single grain turn, so of two
/// jobs queued at the same moment exactly one holds the file. A holder that has ended (or whose creation never completed)
/// no longer holds it, so a lost release cannot block the file forever.
/// </summary>
public sealed class PublishDedupeGrain(
    [PersistentState("publish-dedupe", StorageNames.Projects)] IPersistentState<PublishDedupeState> state,
    TimeProvider time,
    ILogger<PublishDedupeGrain> logger) : Grain, IPublishDedupeGrain
{
    /// <summary>How long a claim by a job that does not exist yet is honoured (its creation writes its state right after claiming).</summary>
    private static readonly TimeSpan CreationWindow = TimeSpan.FromMinutes(1);

    public async Task<DedupeClaim> Claim(Guid jobId)
    {
        if (state.State.HeldBy is { } holder && holder != jobId && await StillHoldsAsync(holder))
        {
            return new DedupeClaim(false, holder, Latest);
        }

        if (state.State.HeldBy != jobId)
        {
            state.State.HeldBy = jobId;
            state.State.HeldSince = time.GetUtcNow();
            await state.WriteStateAsync();
        }

        return new DedupeClaim(true, null, Latest);
    }

    public Task<string?> UploadedVideo() => Task.FromResult(Latest);

    public async Task Release(Guid jobId, string? videoId)
    {
        var changed = false;
        if (videoId is not null && !state.State.Uploads.Any(u => u.JobId == jobId && u.VideoId == videoId))
        {
            state.State.Uploads.Add(new UploadedVideo(jobId, videoId, time.GetUtcNow()));
            changed = true;
        }

        if (state.State.HeldBy == jobId)
        {
            state.State.HeldBy = null;
            state.State.HeldSince = null;
            changed = true;
        }

        if (changed)
        {
            await state.WriteStateAsync();
        }
    }

    private string? Latest => state.State.Uploads.Count > 0 ? state.State.Uploads[^1].VideoId : null;

    private async Task<bool> StillHoldsAsync(Guid holder)
    {
        // The holder's Get interleaves with its other calls, so this cannot deadlock with a holder that is calling Release.
        var view = await GrainFactory.GetGrain<IPublishJobGrain>(holder).Get();
        if (view.Status is PublishStatus.Pending or PublishStatus.Downloading or PublishStatus.Uploading)
        {
            return true;
        }

        if (view.Status == PublishStatus.None && time.GetUtcNow() - state.State.HeldSince < CreationWindow)
        {
            return true;
        }

        logger.LogInformation("File {Key}: job {Job} no longer holds it ({Status})", this.GetPrimaryKeyString(), holder, view.Status);
        return false;
    }
}
