using MediaActors.Grains.Google;
using MediaActors.Grains.Projects;
using MediaActors.Providers;
using MediaActors.Providers.Google;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Publish;

/// <summary>
/// One attempt at a publish job, on the silo that accepted it: a Drive file is copied into blob storage (resumed from the
/// bytes already there), the duplicate check is made again, then the video goes to YouTube through a resumable session
/// that the job grain keeps, so that any later attempt resumes it from the offset YouTube confirms, never from zero.
/// Memory stays at one read buffer and one upload chunk, whatever the file's size.
/// </summary>
public sealed class Publisher(
    YouTubeClient youtube,
    DriveClient drive,
    BlobStore blobs,
    IGrainFactory grains,
    IOptions<PublishOptions> options,
    IOptions<GoogleOptions> google,
    ILogger<Publisher> logger)
{
    private readonly PublishOptions _options = options.Value;

    /// <summary>Where a Drive file is staged for its job (deterministic: a later attempt finds what an earlier one copied).</summary>
    public static BlobRef StagingBlob(string userId, Guid jobId) => new(Containers.Uploads, $"publish/{userId}/{jobId:N}");

    public async Task<StepOutput> RunAsync(PublishRequest request, IStepProgress progress, CancellationToken cancellationToken)
    {
        var calls = new GoogleCalls(grains.GetGrain<IGoogleAccountGrain>(request.UserId));
        var quota = grains.GetGrain<IPublishQuotaGrain>(PublishKeys.Quota(google.Value));
        try
        {
            var blob = request.Source.Blob ?? await StageDriveFileAsync(request, calls, progress, cancellationToken);
            var info = await blobs.GetInfoAsync(blob.Container, blob.Name, cancellationToken)
                ?? throw StepException.Permanent("The video to publish is no longer in blob storage.");
            progress.Report(0.5, StepNotes.Uploading);

            var session = request.Session;
            long offset = 0;
            if (session is not null)
            {
                try
                {
                    var state = await calls.CallAsync(token => youtube.QueryUploadAsync(token, session, info.SizeBytes, cancellationToken));
                    if (state.Completed)
                    {
                        return Output(PublishOutcome.Uploaded, state.VideoId);
                    }

                    offset = state.Offset;
                    logger.LogInformation("Publish job {Job}: resuming its YouTube upload at byte {Offset} of {Size}", request.JobId, offset, info.SizeBytes);
                }
                catch (GoogleApiException ex) when (ex.Kind == GoogleFailureKind.NotFound)
                {
                    logger.LogInformation("Publish job {Job}: its YouTube upload session expired; a new one starts", request.JobId);
                    session = null;
                }
            }

            if (session is null)
            {
                // The duplicate check again, just before uploading: the file may have been uploaded since the job was queued.
                var earlier = await grains.GetGrain<IPublishDedupeGrain>(PublishKeys.Dedupe(request.UserId, request.Source.Md5)).UploadedVideo();
                if (earlier is not null)
                {
                    if (await quota.Use("videos.list") is { Allowed: false } listDenied)
                    {
                        return Quota(listDenied.ResetsAt);
                    }

                    if (await calls.CallAsync(token => youtube.VideoExistsAsync(token, earlier, cancellationToken)))
                    {
                        return Output(PublishOutcome.AlreadyOnYouTube, earlier);
                    }

                    logger.LogInformation("Publish job {Job}: the earlier upload of this file ({Video}) no longer exists; uploading it again", request.JobId, earlier);
                }

                if (await quota.Use("videos.insert") is { Allowed: false } insertDenied)
                {
                    return Quota(insertDenied.ResetsAt);
                }

                session = await calls.CallAsync(token => youtube.StartUploadAsync(token, request.Metadata, info.SizeBytes, request.Source.ContentType, cancellationToken));
                if (!await grains.GetGrain<IPublishJobGrain>(request.JobId).SessionStarted(request.AttemptId, session))
                {
                    throw StepException.Permanent("The job no longer runs this attempt.");
                }
            }

            await using var source = await blobs.OpenReadAsync(blob.Container, blob.Name, Math.Max(64 * 1024, _options.ReadBufferBytes), cancellationToken);
            var uploaded = new Reporter(offset => progress.Report(0.5 + 0.5 * offset / Math.Max(1, info.SizeBytes)));
            var resume = false;
            var result = await calls.CallAsync(async token =>
            {
                if (resume)
                {
                    // A retry after a refused token: ask where the session stands rather than trusting the last report.
                    offset = (await youtube.QueryUploadAsync(token, session, info.SizeBytes, cancellationToken)).Offset;
                }

                resume = true;
                return await youtube.UploadAsync(token, session, source, info.SizeBytes, offset, request.Source.ContentType, uploaded, cancellationToken);
            });
            return Output(PublishOutcome.Uploaded, result.VideoId);
        }
        catch (GoogleApiException ex) when (ex.Kind == GoogleFailureKind.Quota)
        {
            var decision = await quota.Exhausted();
            logger.LogWarning("Publish job {Job}: Google says the YouTube quota is used up; jobs wait until {Reset}", request.JobId, decision.ResetsAt);
            return Quota(decision.ResetsAt);
        }
        catch (GoogleApiException ex)
        {
            // Google's message says what was wrong (a title too long, a file not found); it never carries a token.
            throw new StepException(ex.Message, transient: ex.Kind == GoogleFailureKind.Transient, ex);
        }
    }

    private async Task<BlobRef> StageDriveFileAsync(PublishRequest request, GoogleCalls calls, IStepProgress progress, CancellationToken cancellationToken)
    {
        var source = request.Source;
        var target = StagingBlob(request.UserId, request.JobId);
        await using var staged = await blobs.OpenAppendAsync(target.Container, target.Name, source.ContentType, cancellationToken);
        if (staged.Length > source.SizeBytes)
        {
            throw StepException.Retryable("The staged copy of the Drive file is larger than the file; it is copied again.");
        }

        if (staged.Length < source.SizeBytes)
        {
            if (staged.Length > 0)
            {
                logger.LogInformation("Publish job {Job}: resuming the Drive download at byte {Offset} of {Size}", request.JobId, staged.Length, source.SizeBytes);
            }

            var downloaded = new Reporter(bytes => progress.Report(0.5 * bytes / Math.Max(1, source.SizeBytes)));
            try
            {
                await calls.CallAsync(async token =>
                {
                    await drive.DownloadAsync(token, source.DriveFileId!, staged, source.SizeBytes, downloaded, cancellationToken);
                    return true;
                });
            }
            finally
            {
                // Whatever arrived is kept for the next attempt (not after a cancel: the blob is deleted with the job then).
                if (!cancellationToken.IsCancellationRequested)
                {
                    await staged.FlushAsync(CancellationToken.None);
                }
            }
        }

        return target;
    }

    private static StepOutput Output(PublishOutcome outcome, string? videoId) => new(Publish: new PublishOutput(outcome, videoId, null));

    private static StepOutput Quota(DateTimeOffset resetsAt) => new(Publish: new PublishOutput(PublishOutcome.QuotaExceeded, null, resetsAt));

    /// <summary>Progress reported synchronously (System.Progress would post it to the thread pool, out of order).</summary>
    private sealed class Reporter(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    /// <summary>
    /// Google calls with the account's access token: a 401 gets one refreshed token and one more try; a second 401, or an
    /// account Google no longer accepts, fails the job with "reconnect your Google account".
    /// </summary>
    private sealed class GoogleCalls(IGoogleAccountGrain account)
    {
        private string? _token;

        public async Task<T> CallAsync<T>(Func<string, Task<T>> call)
        {
            _token ??= await TokenAsync(forceRefresh: false);
            try
            {
                return await call(_token);
            }
            catch (GoogleApiException ex) when (ex.Kind == GoogleFailureKind.Unauthorized)
            {
                _token = await TokenAsync(forceRefresh: true);
                try
                {
                    return await call(_token);
                }
                catch (GoogleApiException again) when (again.Kind == GoogleFailureKind.Unauthorized)
                {
                    throw StepException.Permanent("Google refused the account's access even with a refreshed token: reconnect your Google account.", again);
                }
            }
        }

        private async Task<string> TokenAsync(bool forceRefresh)
        {
            var token = await account.AccessToken(forceRefresh);
            return token.Problem switch
            {
                GoogleTokenProblem.None when token.Token is { Length: > 0 } value => value,
                GoogleTokenProblem.Unavailable => throw StepException.Retryable(token.Message ?? "Google's token endpoint is unavailable."),
                GoogleTokenProblem.NotConnected => throw StepException.Permanent("No Google account is connected: reconnect your Google account (GET /api/google/connect)."),
                _ => throw StepException.Permanent($"{token.Message ?? "Google no longer accepts the account's grant."} Reconnect your Google account (GET /api/google/connect)."),
            };
        }
    }
}
