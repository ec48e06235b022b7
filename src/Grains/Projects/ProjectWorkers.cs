using MediaActors.Providers;
using System.Text;
using MediaActors.Providers.Content;
using MediaActors.Providers.Ingestion;
using MediaActors.Providers.Media;
using MediaActors.Providers.Search;
using MediaActors.Providers.Storage;
using MediaActors.Providers.Transcription;
using MediaActors.Runtime;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Projects;

/// <summary>Downloading: a link is fetched (yt-dlp or HTTP) into blob storage; an upload is already there and only checked.</summary>
public sealed class IngestWorker(BlobStore blobs, LinkDownloader links, ProjectReads reads, IOptions<MediaOptions> media)
    : Worker<IngestPayload, IngestOutput>
{
    protected override async Task<IngestOutput> ExecuteAsync(IngestPayload payload, WorkItem item, CancellationToken cancellationToken)
    {
        if (payload.Source.Kind == ProjectSource.UploadKind)
        {
            var blob = await reads.UploadBlobAsync(payload.Source.UploadId!.Value, payload.UserId, cancellationToken);
            var info = await blobs.GetInfoAsync(blob.Container, blob.Name, cancellationToken)
                ?? throw StepException.Permanent("The uploaded file is no longer in blob storage.");
            var md5 = await blobs.GetOrComputeMd5Async(blob.Container, blob.Name, cancellationToken);
            await item.ReportProgressAsync(1);
            return new IngestOutput(blob, info.SizeBytes, Convert.ToHexStringLower(md5), null);
        }

        using var temp = new TempFolder(media.Value.TempDirectory, item.Id.ToString("N"));
        var download = (await links.DownloadAsync(payload.Source.Url!, temp.Path,
            new Progress<double>(p => _ = item.ReportProgressAsync(p * 0.8)), cancellationToken)).Media;
        var extension = Path.GetExtension(download.FilePath) is { Length: > 1 and <= 6 } ext ? ext.ToLowerInvariant() : ".mp4";
        // A deterministic name: a retried download overwrites the same blob.
        var target = new BlobRef(Containers.Videos, $"{payload.UserId}/{payload.ProjectId}/source{extension}");
        var stored = await blobs.UploadFileAsync(target.Container, target.Name, download.FilePath, download.ContentType ?? "application/octet-stream",
            new Progress<double>(p => _ = item.ReportProgressAsync(0.8 + p * 0.2)), cancellationToken);
        return new IngestOutput(target, stored.SizeBytes, Convert.ToHexStringLower(stored.Md5!), download.Title);
    }
}

/// <summary>Extracting audio, then uploading: metadata, the 16 kHz WAV, a compressed copy and a thumbnail, all stored in blobs.</summary>
public sealed class MediaWorker(BlobStore blobs, MediaTools tools, IOptions<MediaOptions> options) : Worker<MediaPayload, MediaOutput>
{
    protected override async Task<MediaOutput> ExecuteAsync(MediaPayload payload, WorkItem item, CancellationToken cancellationToken)
    {
        using var temp = new TempFolder(options.Value.TempDirectory, item.Id.ToString("N"));
        var source = temp.File("source" + Path.GetExtension(payload.Video.Name));
        await blobs.DownloadToFileAsync(payload.Video.Container, payload.Video.Name, source, null, cancellationToken);
        await item.ReportProgressAsync(0.1);

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
        var mp3 = temp.File("audio.mp3");
        await tools.ExtractWavAsync(source, wav, info.DurationSeconds, new Progress<double>(p => _ = item.ReportProgressAsync(0.1 + p * 0.6)), cancellationToken);
        await tools.CompressAudioAsync(source, mp3, info.DurationSeconds, null, cancellationToken);
        string? thumbnail = null;
        if (info.HasVideo)
        {
            thumbnail = temp.File("thumbnail.jpg");
            await tools.ThumbnailAsync(source, thumbnail, info.DurationSeconds, cancellationToken);
        }

        await item.ReportProgressAsync(0, "uploading");
        var prefix = $"{payload.UserId}/{payload.ProjectId}";
        var audio = new BlobRef(Containers.Audio, $"{prefix}/audio.wav");
        var compressed = new BlobRef(Containers.Audio, $"{prefix}/audio.mp3");
        await blobs.UploadFileAsync(audio.Container, audio.Name, wav, "audio/wav", new Progress<double>(p => _ = item.ReportProgressAsync(p * 0.8)), cancellationToken);
        await blobs.UploadFileAsync(compressed.Container, compressed.Name, mp3, "audio/mpeg", null, cancellationToken);
        BlobRef? thumb = null;
        if (thumbnail is not null && File.Exists(thumbnail))
        {
            thumb = new BlobRef(Containers.Thumbnails, $"{prefix}/thumbnail.jpg");
            await blobs.UploadFileAsync(thumb.Container, thumb.Name, thumbnail, "image/jpeg", null, cancellationToken);
        }

        return new MediaOutput(info, audio, compressed, thumb);
    }
}

/// <summary>Transcribing, with the configured provider.</summary>
public sealed class TranscribeWorker(BlobStore blobs, ITranscriber transcriber, IOptions<MediaOptions> options) : Worker<TranscribePayload, Transcript>
{
    protected override async Task<Transcript> ExecuteAsync(TranscribePayload payload, WorkItem item, CancellationToken cancellationToken)
    {
        using var temp = new TempFolder(options.Value.TempDirectory, item.Id.ToString("N"));
        var wav = temp.File("audio.wav");
        await blobs.DownloadToFileAsync(payload.Audio.Container, payload.Audio.Name, wav, null, cancellationToken);
        string? compressed = null;
        if (payload.CompressedAudio is { } copy)
        {
            compressed = temp.File("audio.mp3");
            await blobs.DownloadToFileAsync(copy.Container, copy.Name, compressed, null, cancellationToken);
        }

        return await transcriber.TranscribeAsync(new TranscriptionInput(wav, compressed, payload.DurationSeconds),
            new Progress<double>(p => _ = item.ReportProgressAsync(p)), cancellationToken);
    }
}

/// <summary>Analyzing: summary, topics, sentiment, category.</summary>
public sealed class AnalyzeWorker(ProjectReads reads, IContentGenerator generator) : Worker<ProjectPayload, Analysis>
{
    protected override async Task<Analysis> ExecuteAsync(ProjectPayload payload, WorkItem item, CancellationToken cancellationToken) =>
        await generator.AnalyzeAsync(payload.Title, await reads.TranscriptAsync(payload.ProjectId, cancellationToken), cancellationToken);
}

/// <summary>Generating content: blog post, X thread, LinkedIn post.</summary>
public sealed class GenerateWorker(ProjectReads reads, IContentGenerator generator) : Worker<ProjectPayload, GeneratedContent>
{
    protected override async Task<GeneratedContent> ExecuteAsync(ProjectPayload payload, WorkItem item, CancellationToken cancellationToken)
    {
        var transcript = await reads.TranscriptAsync(payload.ProjectId, cancellationToken);
        var analysis = await reads.AnalysisAsync(payload.ProjectId, cancellationToken);
        return await generator.GenerateAsync(payload.Title, transcript, analysis, cancellationToken);
    }
}

/// <summary>Generating embeddings of transcript passages (about a minute or 120 words each).</summary>
public sealed class EmbedWorker(ProjectReads reads, IEmbedder embedder) : Worker<ProjectPayload, EmbedOutput>
{
    public const double MaxPassageSeconds = 60;
    public const int MaxPassageWords = 120;

    protected override async Task<EmbedOutput> ExecuteAsync(ProjectPayload payload, WorkItem item, CancellationToken cancellationToken)
    {
        var transcript = await reads.TranscriptAsync(payload.ProjectId, cancellationToken);
        var passages = Passages(transcript.Segments);
        var vectors = passages.Count == 0 ? [] : await embedder.EmbedAsync(passages.Select(p => p.Text).ToList(), cancellationToken);
        var chunks = passages.Select((p, i) => new TranscriptChunk(i, p.Start, p.End, p.Text, vectors[i])).ToList();
        return new EmbedOutput(chunks, embedder.Name, embedder.Model);
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

/// <summary>Removes a deleted project's blobs.</summary>
public sealed class CleanupWorker(BlobStore blobs) : Worker<CleanupPayload, int>
{
    protected override async Task<int> ExecuteAsync(CleanupPayload payload, WorkItem item, CancellationToken cancellationToken)
    {
        foreach (var blob in payload.Blobs)
        {
            await blobs.DeleteIfExistsAsync(blob.Container, blob.Name, cancellationToken);
        }

        return payload.Blobs.Count;
    }
}
