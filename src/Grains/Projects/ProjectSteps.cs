using MediaActors.Providers;
using System.Text;
using MediaActors.Providers.Content;
using MediaActors.Providers.Ingestion;
using MediaActors.Providers.Media;
using MediaActors.Providers.Search;
using MediaActors.Providers.Storage;
using MediaActors.Providers.Transcription;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Projects;

/// <summary>Reports a running step's progress (0-1 of the step, with an optional note) to the grain that owns it.</summary>
public interface IStepProgress
{
    void Report(double fraction, string? note = null);
}

/// <summary>One step of the project pipeline, run by <see cref="StepRunner"/> on the silo that accepted it.</summary>
public interface IProjectStep
{
    Task<StepOutput> RunAsync(StepRequest request, IStepProgress progress, CancellationToken cancellationToken);
}

/// <summary>Downloading: a link is fetched (yt-dlp or HTTP) into blob storage; an upload is already there and only checked.</summary>
public sealed class IngestStep(BlobStore blobs, LinkDownloader links, ProjectReads reads, IOptions<MediaOptions> media) : IProjectStep
{
    public async Task<StepOutput> RunAsync(StepRequest request, IStepProgress progress, CancellationToken cancellationToken)
    {
        if (request.Source!.Kind == ProjectSource.UploadKind)
        {
            var blob = await reads.UploadBlobAsync(request.Source!.UploadId!.Value, request.UserId, cancellationToken);
            var info = await blobs.GetInfoAsync(blob.Container, blob.Name, cancellationToken)
                ?? throw StepException.Permanent("The uploaded file is no longer in blob storage.");
            var md5 = await blobs.GetOrComputeMd5Async(blob.Container, blob.Name, cancellationToken);
            progress.Report(1);
            return new StepOutput(Ingest: new IngestOutput(blob, info.SizeBytes, Convert.ToHexStringLower(md5), null));
        }

        using var temp = new TempFolder(media.Value.TempDirectory, request.AttemptId.ToString("N"));
        var download = (await links.DownloadAsync(request.Source!.Url!, temp.Path,
            new Progress<double>(p => progress.Report(p * 0.8)), cancellationToken)).Media;
        var extension = Path.GetExtension(download.FilePath) is { Length: > 1 and <= 6 } ext ? ext.ToLowerInvariant() : ".mp4";
        // A deterministic name: a retried download overwrites the same blob.
        var target = new BlobRef(Containers.Videos, $"{request.UserId}/{request.ProjectId}/source{extension}");
        var stored = await blobs.UploadFileAsync(target.Container, target.Name, download.FilePath, download.ContentType ?? "application/octet-stream",
            new Progress<double>(p => progress.Report(0.8 + p * 0.2)), cancellationToken);
        return new StepOutput(Ingest: new IngestOutput(target, stored.SizeBytes, Convert.ToHexStringLower(stored.Md5!), download.Title));
    }
}

/// <summary>
/// Extracting audio, then uploading: metadata, the 16 kHz WAV, a thumbnail and, for a transcriber that uploads it, a
/// compressed copy, all stored in blobs.
/// </summary>
public sealed class MediaStep(BlobStore blobs, MediaTools tools, ITranscriber transcriber, HandOver handOver, IOptions<MediaOptions> options) : IProjectStep
{
    public async Task<StepOutput> RunAsync(StepRequest request, IStepProgress progress, CancellationToken cancellationToken)
    {
        using var temp = new TempFolder(options.Value.TempDirectory, request.AttemptId.ToString("N"));
        var source = temp.File("source" + Path.GetExtension(request.Video!.Name));
        await blobs.DownloadToFileAsync(request.Video!.Container, request.Video!.Name, source, null, cancellationToken);
        progress.Report(0.1);

        var info = await tools.ProbeAsync(source, cancellationToken);
        if (!info.HasAudio)
        {
            throw StepException.Permanent("The video has no audio track, so there is nothing to transcribe.");
        }

        if (info.DurationSeconds <= 0)
        {
            throw StepException.Permanent("The media has no duration: it is empty or corrupt.");
        }

        var wav = temp.File("audio.wav");
        await tools.ExtractWavAsync(source, wav, info.DurationSeconds, new Progress<double>(p => progress.Report(0.1 + p * 0.6)), cancellationToken);
        var mp3 = transcriber.UsesCompressedAudio ? temp.File("audio.mp3") : null;
        if (mp3 is not null)
        {
            await tools.CompressAudioAsync(source, mp3, info.DurationSeconds, null, cancellationToken);
        }

        string? thumbnail = null;
        if (info.HasVideo)
        {
            thumbnail = temp.File("thumbnail.jpg");
            await tools.ThumbnailAsync(source, thumbnail, info.DurationSeconds, cancellationToken);
        }

        progress.Report(0, StepNotes.Uploading);
        var prefix = $"{request.UserId}/{request.ProjectId}";
        var audio = new BlobRef(Containers.Audio, $"{prefix}/audio.wav");
        var uploaded = await blobs.UploadFileAsync(audio.Container, audio.Name, wav, "audio/wav", new Progress<double>(p => progress.Report(p * 0.8)), cancellationToken);
        BlobRef? compressed = null;
        if (mp3 is not null)
        {
            compressed = new BlobRef(Containers.Audio, $"{prefix}/audio.mp3");
            await blobs.UploadFileAsync(compressed.Container, compressed.Name, mp3, "audio/mpeg", null, cancellationToken);
        }

        BlobRef? thumb = null;
        if (thumbnail is not null && File.Exists(thumbnail))
        {
            thumb = new BlobRef(Containers.Thumbnails, $"{prefix}/thumbnail.jpg");
            await blobs.UploadFileAsync(thumb.Container, thumb.Name, thumbnail, "image/jpeg", null, cancellationToken);
        }

        // The transcribing step usually runs on this silo next: it takes the WAV from here instead of downloading it.
        handOver.Leave(audio.Container, audio.Name, uploaded, wav);
        return new StepOutput(Media: new MediaOutput(info, audio, compressed, thumb));
    }
}

/// <summary>
/// Transcribing, with the configured provider. Each part the provider finishes goes to the project as it comes (the live
/// transcript); a new attempt reuses the parts an earlier one stored instead of transcribing that audio again.
/// </summary>
public sealed class TranscribeStep(BlobStore blobs, ITranscriber transcriber, ProjectReads reads, IGrainFactory grains, HandOver handOver,
    IOptions<MediaOptions> options, ILogger<TranscribeStep> logger) : IProjectStep
{
    public async Task<StepOutput> RunAsync(StepRequest request, IStepProgress progress, CancellationToken cancellationToken)
    {
        using var temp = new TempFolder(options.Value.TempDirectory, request.AttemptId.ToString("N"));
        var wav = temp.File("audio.wav");
        var audio = request.Audio!;
        if (handOver.TryTake(audio.Container, audio.Name, await blobs.GetInfoAsync(audio.Container, audio.Name, cancellationToken), wav))
        {
            logger.LogInformation("Project {Project}: transcribing the WAV the media step left on this silo (the stored one: not downloaded)", request.ProjectId);
        }
        else
        {
            await blobs.DownloadToFileAsync(audio.Container, audio.Name, wav, null, cancellationToken);
        }

        string? compressed = null;
        if (request.CompressedAudio is { } copy && transcriber.UsesCompressedAudio)
        {
            compressed = temp.File("audio.mp3");
            await blobs.DownloadToFileAsync(copy.Container, copy.Name, compressed, null, cancellationToken);
        }

        var resume = await reads.TranscriptPartsAsync(request.ProjectId, cancellationToken);
        if (resume is not null)
        {
            logger.LogInformation("Project {Project}: {Parts} transcript parts of an earlier attempt are stored; reused if the audio is cut the same way",
                request.ProjectId, resume.Parts.Count);
        }

        var relay = new PartRelay(grains.GetGrain<IProjectGrain>(request.ProjectId), request.AttemptId, logger, cancellationToken);
        try
        {
            var input = new TranscriptionInput(wav, compressed, request.DurationSeconds) { Parts = relay, Resume = resume };
            return new StepOutput(Transcript: await transcriber.TranscribeAsync(input, new Progress<double>(p => progress.Report(p)), cancellationToken));
        }
        finally
        {
            // Parts finished before a failure are sent too: the next attempt starts after them.
            await relay.CompleteAsync();
        }
    }
}

/// <summary>
/// Sends a transcription's parts to its project one at a time in the order they come, off the transcriber's threads
/// (reporting a part only queues it, so the decoders never wait for the project). Stops when the project says the
/// attempt is stale, or when a part could not be delivered (the parts after it would not follow on).
/// </summary>
internal sealed class PartRelay : IProgress<TranscribedPart>
{
    private readonly System.Threading.Channels.Channel<TranscribedPart> _parts =
        System.Threading.Channels.Channel.CreateUnbounded<TranscribedPart>(new() { SingleReader = true });

    private readonly IProjectGrain _project;
    private readonly Guid _attemptId;
    private readonly ILogger _logger;
    private readonly Task _sending;

    public PartRelay(IProjectGrain project, Guid attemptId, ILogger logger, CancellationToken cancellationToken)
    {
        _project = project;
        _attemptId = attemptId;
        _logger = logger;
        _sending = Task.Run(() => SendAsync(cancellationToken), CancellationToken.None);
    }

    public void Report(TranscribedPart value) => _parts.Writer.TryWrite(value);

    /// <summary>Waits until the parts reported so far were sent (or sending stopped).</summary>
    public async Task CompleteAsync()
    {
        _parts.Writer.TryComplete();
        try
        {
            await _sending;
        }
        catch (OperationCanceledException)
        {
            // Cancelled with the step: nothing more to send.
        }
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        var sending = true;
        await foreach (var part in _parts.Reader.ReadAllAsync(cancellationToken))
        {
            for (var attempt = 1; sending; attempt++)
            {
                try
                {
                    sending = await _project.TranscriptPart(_attemptId, part);
                    break;
                }
                catch (Exception ex) when (ex is not OperationCanceledException && attempt < 3)
                {
                    _logger.LogWarning(ex, "Sending transcript part {Part} to project {Project} failed (try {Try}); trying again", part.Index, _project.GetPrimaryKey(), attempt);
                    await Task.Delay(TimeSpan.FromMilliseconds(300 * attempt), cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogWarning(ex, "Transcript part {Part} of project {Project} could not be sent; the live transcript of this attempt stops there", part.Index,
                        _project.GetPrimaryKey());
                    sending = false;
                }
            }
        }
    }
}

/// <summary>Analyzing: summary, topics, sentiment, category.</summary>
public sealed class AnalyzeStep(ProjectReads reads, IContentGenerator generator) : IProjectStep
{
    public async Task<StepOutput> RunAsync(StepRequest request, IStepProgress progress, CancellationToken cancellationToken) =>
        new(Analysis: await generator.AnalyzeAsync(request.Title, await reads.TranscriptAsync(request.ProjectId, cancellationToken), cancellationToken));
}

/// <summary>Generating content: blog post, X thread, LinkedIn post.</summary>
public sealed class GenerateStep(ProjectReads reads, IContentGenerator generator) : IProjectStep
{
    public async Task<StepOutput> RunAsync(StepRequest request, IStepProgress progress, CancellationToken cancellationToken)
    {
        var transcript = await reads.TranscriptAsync(request.ProjectId, cancellationToken);
        var analysis = await reads.AnalysisAsync(request.ProjectId, cancellationToken);
        return new StepOutput(Content: await generator.GenerateAsync(request.Title, transcript, analysis, cancellationToken));
    }
}

/// <summary>Generating embeddings of transcript passages (about a minute or 120 words each).</summary>
public sealed class EmbedStep(ProjectReads reads, IEmbedder embedder) : IProjectStep
{
    public const double MaxPassageSeconds = 60;
    public const int MaxPassageWords = 120;

    public async Task<StepOutput> RunAsync(StepRequest request, IStepProgress progress, CancellationToken cancellationToken)
    {
        var transcript = await reads.TranscriptAsync(request.ProjectId, cancellationToken);
        var passages = Passages(transcript.Segments);
        var vectors = passages.Count == 0 ? [] : await embedder.EmbedAsync(passages.Select(p => p.Text).ToList(), cancellationToken);
        var chunks = passages.Select((p, i) => new TranscriptChunk(i, p.Start, p.End, p.Text, vectors[i])).ToList();
        return new StepOutput(Embeddings: new EmbedOutput(chunks, embedder.Name, embedder.Model));
    }

    /// <summary>Groups consecutive segments into passages.</summary>
    public static List<(double Start, double End, string Text)> Passages(IReadOnlyList<TranscriptSegment> segments)
    {
        var passages = new List<(double, double, string)>();
        var text = new StringBuilder();
        double start = 0, end = 0;
        var words = 0;
        foreach (var segment in segments.Where(s => !string.IsNullOrWhiteSpace(s.Text)))
        {
            if (text.Length > 0 && (segment.End - start > MaxPassageSeconds || words >= MaxPassageWords))
            {
                passages.Add((start, end, text.ToString()));
                text.Clear();
                words = 0;
            }

            if (text.Length == 0)
            {
                start = segment.Start;
            }
            else
            {
                text.Append(' ');
            }

            text.Append(segment.Text.Trim());
            words += segment.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            end = segment.End;
        }

        if (text.Length > 0)
        {
            passages.Add((start, end, text.ToString()));
        }

        return passages;
    }
}
