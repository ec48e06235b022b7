using System.Text.Json;
using MediaActors.Grains.Projects;
using MediaActors.Providers;
using MediaActors.Providers.Avatar;
using MediaActors.Providers.Ingestion;
using MediaActors.Providers.Media;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Videos;

/// <summary>
/// An avatar video's work on the silo that accepted it: the signed dispatch to the generator, or the download of the
/// result it announced (through the same guard as links: no private addresses, a size limit), checked with ffprobe
/// and stored in blob storage.
/// </summary>
public sealed class VideoWorker(AvatarGenerator generator, HttpMediaDownloader downloader, MediaTools tools, BlobStore blobs,
    IOptions<AvatarOptions> avatar, IOptions<MediaOptions> media)
{
    /// <summary>The completion and error webhooks' paths on the API.</summary>
    public const string CompletePath = "api/webhooks/video-complete";
    public const string ErrorPath = "api/webhooks/workflow-error";

    public Task<StepOutput> RunAsync(VideoWorkRequest request, IStepProgress progress, CancellationToken cancellationToken) =>
        request.ResultUrl is null ? DispatchAsync(request, cancellationToken) : DownloadAsync(request, progress, cancellationToken);

    private async Task<StepOutput> DispatchAsync(VideoWorkRequest request, CancellationToken cancellationToken)
    {
        var settings = avatar.Value;
        var baseUrl = settings.PublicBaseUrl is { } configured ? new Uri(configured.ToString().TrimEnd('/') + "/") : null;
        using var requestJson = JsonDocument.Parse(request.RequestJson);
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            @event = "video.requested",
            videoId = request.VideoId,
            kind = request.Kind,
            title = request.Title,
            avatar = request.Avatar,
            voice = request.Voice,
            request = requestJson.RootElement,
            callbackUrl = baseUrl is null ? null : new Uri(baseUrl, CompletePath),
            errorUrl = baseUrl is null ? null : new Uri(baseUrl, ErrorPath),
        }, JsonDefaults.Options);
        var executionId = await generator.DispatchAsync(body, cancellationToken);
        return new StepOutput(Video: new VideoOutput(true, executionId, null, 0, null));
    }

    private async Task<StepOutput> DownloadAsync(VideoWorkRequest request, IStepProgress progress, CancellationToken cancellationToken)
    {
        using var temp = new TempFolder(media.Value.TempDirectory, request.AttemptId.ToString("N"));
        var fetched = await downloader.DownloadAsync(request.ResultUrl!, null, temp.Path, avatar.Value.MaxResultBytes, acceptWebPage: false,
            new Progress<double>(p => progress.Report(p * 0.8)), cancellationToken);
        var file = fetched.Media!;
        MediaInfo info;
        try
        {
            info = await tools.ProbeAsync(file.FilePath, cancellationToken);
        }
        catch (StepException ex) when (!ex.Transient)
        {
            throw StepException.Permanent($"The generator's result is not a readable video: {ex.Message}", ex);
        }

        if (!info.HasVideo)
        {
            throw StepException.Permanent("The generator's result has no video stream.");
        }

        var target = request.Target!;
        var stored = await blobs.UploadFileAsync(target.Container, target.Name, file.FilePath, "video/mp4",
            new Progress<double>(p => progress.Report(0.8 + p * 0.2)), cancellationToken);
        return new StepOutput(Video: new VideoOutput(false, null, target, stored.SizeBytes, info));
    }
}
