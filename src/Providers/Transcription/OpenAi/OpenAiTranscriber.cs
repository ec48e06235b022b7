using System.ClientModel.Primitives;
using MediaActors.Providers.OpenAi;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenAI.Audio;

namespace MediaActors.Providers.Transcription.OpenAi;

/// <summary>
/// Transcribes with an OpenAI-compatible /audio/transcriptions endpoint (verbose JSON, segment and word timings, speakers
/// where the server gives them). Audio over the upload limit is cut into time chunks with ffmpeg, transcribed in
/// parallel, and merged with every time shifted by its chunk's start.
/// </summary>
public sealed class OpenAiTranscriber : ITranscriber
{
    // An MP3 holding no audio frames (just ffmpeg's header) is smaller than this; a tenth of a second of audio is larger.
    private const long EmptyChunkBytes = 1024;

    private readonly OpenAiTranscriptionOptions _options;
    private readonly OpenAiConnection _connection;
    private readonly AudioChunker _chunker;
    private readonly ILogger _logger;

    public OpenAiTranscriber(OpenAiOptions openAi, OpenAiTranscriptionOptions options, ILogger<OpenAiTranscriber>? logger = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _connection = new OpenAiConnection(openAi, options, OpenAiTranscriptionOptions.SectionName);
        _chunker = new AudioChunker(options.FfmpegPath, options.FfprobePath);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Name => "openai";

    /// <summary>It uploads the compressed copy (the WAV when there is none), which fits the API's upload limit for longer audio.</summary>
    public bool UsesCompressedAudio => true;

    public string Model => _options.Model;

    /// <summary>False without an API key: the composition root should then pick another transcriber.</summary>
    public bool IsConfigured => _connection.IsConfigured;

    public async Task<Transcript> TranscribeAsync(TranscriptionInput input, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!IsVerbose && !IsDiarized && !string.Equals(_options.ResponseFormat, "json", StringComparison.OrdinalIgnoreCase))
        {
            throw StepException.Permanent($"Transcription:OpenAI:ResponseFormat '{_options.ResponseFormat}' is not supported; use verbose_json, diarized_json or json.");
        }

        var client = _connection.Client.GetAudioClient(_options.Model);
        var upload = input.CompressedPath is { } compressed && File.Exists(compressed) ? compressed : input.WavPath;
        if (!File.Exists(upload))
        {
            throw StepException.Permanent("The audio file to transcribe does not exist.");
        }

        progress?.Report(0);
        if (new FileInfo(upload).Length <= _options.MaxUploadBytes)
        {
            // One part: the whole file.
            var single = TranscriptParts.Plan(Name, Model, [(0, input.DurationSeconds)]);
            if (TranscriptParts.Reusable(input.Resume, single, 1) is [{ } stored])
            {
                progress?.Report(1);
                return Merge([FromPart(stored)]);
            }

            var whole = await TranscribeFileAsync(client, upload, offset: 0, windowEnd: null, input.DurationSeconds, input.LanguageHint, cancellationToken).ConfigureAwait(false);
            input.Parts?.Report(ToPart(whole, single, 0, 1, 0, input.DurationSeconds));
            progress?.Report(1);
            return Merge([whole]);
        }

        // The lossless WAV cuts at exact sample positions; the compressed copy is the fallback when it is gone.
        var source = File.Exists(input.WavPath) ? input.WavPath : upload;
        var duration = input.DurationSeconds > 0 ? input.DurationSeconds : await _chunker.ProbeDurationAsync(source, cancellationToken).ConfigureAwait(false);
        var (chunks, bitrate) = AudioChunker.Plan(duration, _options.MaxUploadBytes, _options.ChunkSeconds);
        _logger.LogInformation("Audio of {Duration:0.0} s is over {MaxBytes} bytes: transcribing {Count} chunks at {Bitrate} kbit/s", duration, _options.MaxUploadBytes, chunks.Count, bitrate);

        var directory = Path.Combine(_options.TempDirectory is { Length: > 0 } temp ? temp : Path.GetTempPath(), $"openai-chunks-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var plan = TranscriptParts.Plan(Name, Model, chunks.Select(c => (c.Start, c.End ?? duration)));
        var reused = TranscriptParts.Reusable(input.Resume, plan, chunks.Count);
        var sequencer = new PartSequencer(input.Parts, reused.Count);
        var results = new ChunkTranscript?[chunks.Count];
        for (var i = 0; i < reused.Count; i++)
        {
            results[i] = FromPart(reused[i]);
        }

        var done = reused.Count;
        var progressLock = new object();
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Parallelism), CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(chunks.Skip(reused.Count), parallel, async (chunk, token) =>
            {
                var result = await TranscribeChunkAsync(client, source, chunk, bitrate, directory, duration, input.LanguageHint, token).ConfigureAwait(false);
                results[chunk.Index] = result;
                sequencer.Finished(ToPart(result, plan, chunk.Index, chunks.Count, chunk.Start, chunk.End ?? duration));
                lock (progressLock)
                {
                    progress?.Report(++done / (double)chunks.Count);
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            TryDeleteDirectory(directory);
        }

        return Merge(results.Select(r => r!).ToList());
    }

    private async Task<ChunkTranscript> TranscribeChunkAsync(
        AudioClient client, string source, AudioChunk chunk, int bitrate, string directory, double duration, string? languageHint, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, $"chunk-{chunk.Index:D4}.mp3");
        try
        {
            await _chunker.EncodeAsync(source, chunk, bitrate, path, cancellationToken).ConfigureAwait(false);
            var size = new FileInfo(path).Length;
            if (chunk.Index > 0 && size < EmptyChunkBytes)
            {
                // The input's duration was a little long and this last window starts past the end: nothing to send.
                return new ChunkTranscript("", null, []);
            }

            if (size > _options.MaxUploadBytes)
            {
                throw StepException.Permanent($"Chunk {chunk.Index + 1} is still {size} bytes, over Transcription:OpenAI:MaxUploadBytes ({_options.MaxUploadBytes}); lower Transcription:OpenAI:ChunkSeconds.");
            }

            return await TranscribeFileAsync(client, path, chunk.Start, chunk.End, chunk.End ?? duration, languageHint, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            TryDelete(path);
        }
    }

    private async Task<ChunkTranscript> TranscribeFileAsync(
        AudioClient client, string path, double offset, double? windowEnd, double nominalEnd, string? languageHint, CancellationToken cancellationToken)
    {
        // The protocol method is used, with the form built here: the SDK's typed result rejects responses of compatible
        // servers that differ in small ways (times as strings, words inside segments) and drops a segment's speaker.
        using var form = new MultipartUpload();
        form.AddFile("file", path, MediaTypeOf(path));
        form.AddText("model", _options.Model);
        form.AddText("response_format", _options.ResponseFormat.ToLowerInvariant());
        if (IsVerbose)
        {
            form.AddText("timestamp_granularities[]", "segment");
            form.AddText("timestamp_granularities[]", "word");
        }

        if (IsDiarized)
        {
            // Diarizing models need a chunking strategy for audio over 30 seconds.
            form.AddText("chunking_strategy", "auto");
        }

        if (TranscriptionResponse.NormaliseLanguage(languageHint) is { } language)
        {
            form.AddText("language", language);
        }

        if (!string.IsNullOrWhiteSpace(_options.Prompt))
        {
            form.AddText("prompt", _options.Prompt);
        }

        try
        {
            var result = await client.TranscribeAudioAsync(form, form.ContentType, new RequestOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
            return TranscriptionResponse.Parse(result.GetRawResponse().Content, offset, windowEnd, nominalEnd);
        }
        catch (Exception e) when (e is not StepException && !cancellationToken.IsCancellationRequested)
        {
            throw _connection.Failure(e, "transcription");
        }
    }

    private static string MediaTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".mp3" => "audio/mpeg",
        ".wav" => "audio/wav",
        ".ogg" or ".oga" or ".opus" => "audio/ogg",
        ".m4a" or ".mp4" => "audio/mp4",
        ".webm" => "audio/webm",
        ".flac" => "audio/flac",
        _ => "application/octet-stream",
    };

    private bool IsVerbose => string.Equals(_options.ResponseFormat, "verbose_json", StringComparison.OrdinalIgnoreCase);

    private bool IsDiarized => string.Equals(_options.ResponseFormat, "diarized_json", StringComparison.OrdinalIgnoreCase);

    private static TranscribedPart ToPart(ChunkTranscript result, string plan, int index, int count, double start, double end) =>
        new(plan, index, count, Math.Round(start, 3), Math.Round(end, 3), result.Text, result.Language, result.Segments);

    private static ChunkTranscript FromPart(TranscribedPart part) => new(part.Text, part.Language, part.Segments);

    private Transcript Merge(IReadOnlyList<ChunkTranscript> parts)
    {
        var segments = parts.SelectMany(p => p.Segments).ToList();
        var text = string.Join(' ', parts.Select(p => p.Text).Where(t => t.Length > 0));
        var language = parts.Select(p => p.Language).FirstOrDefault(l => l is not null) ?? "und";
        return new Transcript(language, text, segments, Name, _options.Model);
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException e)
        {
            _logger.LogWarning(e, "Could not delete chunk file {Path}", path);
        }
        catch (UnauthorizedAccessException e)
        {
            _logger.LogWarning(e, "Could not delete chunk file {Path}", path);
        }
    }

    private void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException e)
        {
            _logger.LogWarning(e, "Could not delete chunk folder {Path}", path);
        }
        catch (UnauthorizedAccessException e)
        {
            _logger.LogWarning(e, "Could not delete chunk folder {Path}", path);
        }
    }
}
