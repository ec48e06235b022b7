using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MediaActors.Providers.Transcription.Local;

/// <summary>
/// The embedded transcriber: pocketsphinx (Debian) through P/Invoke. The 16 kHz mono WAV is streamed, cut into chunks
/// in pauses, and the chunks are decoded in parallel, one decoder per worker thread. English only, no speaker labels.
/// </summary>
public sealed class LocalTranscriber : ITranscriber
{
    public const string ProviderName = "local-pocketsphinx";

    public const string ModelName = "pocketsphinx-en-us";

    // A pause this long between two words starts a new segment, so segments read like phrases and fit subtitles.
    private const double SegmentPauseSeconds = 0.5;

    private const double MaxSegmentSeconds = 10;

    private readonly LocalTranscriberOptions _options;
    private readonly PocketSphinxModel _model;
    private readonly ILogger _logger;

    // Bounds the decoders of all concurrent transcriptions together, so two projects at once do not oversubscribe the cores.
    private readonly SemaphoreSlim _decoderSlots;

    public LocalTranscriber(LocalTranscriberOptions options, ILogger<LocalTranscriber>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }
        _options = options;
        _model = options.Model;
        _logger = logger ?? NullLogger<LocalTranscriber>.Instance;
        _decoderSlots = new SemaphoreSlim(options.Parallelism, options.Parallelism);
    }

    public string Name => ProviderName;

    /// <summary>It decodes the WAV extract; no compressed copy is made for it.</summary>
    public bool UsesCompressedAudio => false;

    public string Model => ModelName;

    public async Task<Transcript> TranscribeAsync(TranscriptionInput input, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        cancellationToken.ThrowIfCancellationRequested();
        Decoder.EnsureAvailable(_model);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var wav = PcmWav.Open(input.WavPath);
            var chunks = await Task.Run(() => SilenceSplitter.Plan(wav, _options.MaxChunkSeconds, cancellationToken), cancellationToken);
            var plan = TranscriptParts.Plan(Name, Model, chunks.Select(c => (c.StartSeconds, c.EndSeconds)));
            var reused = TranscriptParts.Reusable(input.Resume, plan, chunks.Count);
            var parts = await DecodeAsync(wav, chunks, plan, reused, new PartSequencer(input.Parts, reused.Count), progress, cancellationToken);

            var segments = parts.SelectMany(p => p.Segments).ToList();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _logger.LogInformation(
                "Transcribed {Duration:0.0} s of audio in {Chunks} chunks ({Reused} reused from an earlier attempt) with up to {Parallelism} decoders in {Elapsed:0.0} s ({Speed:0.00} s of audio per second)",
                wav.DurationSeconds, chunks.Count, reused.Count, _options.Parallelism, elapsed, wav.DurationSeconds / Math.Max(elapsed, 1e-3));
            return new Transcript("en", string.Join(' ', segments.Select(s => s.Text)), segments, Name, Model);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw StepException.Retryable($"Reading the audio extract failed: {e.Message}", e);
        }
    }

    /// <summary>Decodes every chunk not reused; the result at index i is chunk i's part. Each part goes to the sequencer as it is done.</summary>
    private async Task<TranscribedPart[]> DecodeAsync(PcmWav wav, IReadOnlyList<SpeechChunk> chunks, string plan, IReadOnlyList<TranscribedPart> reused,
        PartSequencer sequencer, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var parts = new TranscribedPart[chunks.Count];
        for (var i = 0; i < reused.Count; i++)
        {
            parts[i] = reused[i];
        }

        if (chunks.Count == reused.Count)
        {
            progress?.Report(1);
            return parts;
        }

        var queue = new ChunkQueue(chunks, reused.Count, wav.SampleCount, progress);
        var bufferSamples = chunks.Skip(reused.Count).Max(c => c.SoundSampleCount);
        // Cancelled by the caller, or by the first worker that fails so that the others stop between chunks.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var work = new ChunkWork(wav, queue, plan, parts, sequencer, bufferSamples);
        var workers = Enumerable.Range(0, Math.Min(_options.Parallelism, chunks.Count - reused.Count))
            .Select(_ => RunWorkerAsync(work, stop))
            .ToArray();
        await Task.WhenAll(workers);
        return parts;
    }

    private sealed record ChunkWork(PcmWav Wav, ChunkQueue Queue, string Plan, TranscribedPart[] Parts, PartSequencer Sequencer, int BufferSamples);

    private async Task RunWorkerAsync(ChunkWork work, CancellationTokenSource stop)
    {
        await _decoderSlots.WaitAsync(stop.Token);
        try
        {
            // Decoding blocks for seconds in native code: a dedicated thread, not a thread-pool thread the silo needs.
            await Task.Factory.StartNew(
                () => DecodeChunks(work, stop.Token),
                stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await stop.CancelAsync();
            throw;
        }
        finally
        {
            _decoderSlots.Release();
        }
    }

    private void DecodeChunks(ChunkWork work, CancellationToken cancellationToken)
    {
        Decoder? decoder = null;
        var buffer = new short[work.BufferSamples];
        try
        {
            while (!cancellationToken.IsCancellationRequested && work.Queue.TryTake(out var chunk))
            {
                var utterance = Utterance.Empty;
                if (chunk.HasSound)
                {
                    // Loaded on the first chunk with sound only: a worker that finds no such work costs nothing.
                    decoder ??= Decoder.Create(_model);
                    var read = work.Wav.Read(chunk.SoundStartSample, buffer.AsSpan(0, chunk.SoundSampleCount));
                    utterance = decoder.Decode(buffer.AsSpan(0, read));
                }

                var segments = Segments(chunk, utterance).ToList();
                var part = new TranscribedPart(work.Plan, chunk.Index, work.Parts.Length, Math.Round(chunk.StartSeconds, 3), Math.Round(chunk.EndSeconds, 3),
                    string.Join(' ', segments.Select(s => s.Text)), "en", segments);
                work.Parts[chunk.Index] = part;
                work.Queue.Complete(chunk);
                work.Sequencer.Finished(part);
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            decoder?.Dispose();
        }
    }

    /// <summary>A chunk's words at their absolute times (the decoder timed them from the start of the chunk's sound), grouped into segments at pauses.</summary>
    private static IEnumerable<TranscriptSegment> Segments(SpeechChunk chunk, Utterance utterance)
    {
        var words = new List<TranscriptWord>();
        foreach (var word in utterance.Words)
        {
            var start = Math.Round(chunk.SoundStartSeconds + word.Start, 3);
            var end = Math.Round(Math.Min(chunk.SoundStartSeconds + word.End, chunk.SoundEndSeconds), 3);
            if (words.Count > 0 && (start - words[^1].End >= SegmentPauseSeconds || end - words[0].Start > MaxSegmentSeconds))
            {
                yield return Segment(words);
                words = [];
            }
            words.Add(new TranscriptWord(start, end, word.Text));
        }
        if (words.Count > 0)
        {
            yield return Segment(words);
        }
    }

    private static TranscriptSegment Segment(List<TranscriptWord> words) =>
        new(words[0].Start, words[^1].End, string.Join(' ', words.Select(w => w.Text)), Words: words);

    /// <summary>Hands out chunks in order to the workers and reports the share of the audio decoded.</summary>
    private sealed class ChunkQueue(IReadOnlyList<SpeechChunk> chunks, int first, long totalSamples, IProgress<double>? progress)
    {
        private readonly Lock _progressLock = new();
        private int _next = first - 1;
        private long _doneSamples = chunks.Take(first).Sum(c => (long)c.SampleCount);

        public bool TryTake([NotNullWhen(true)] out SpeechChunk? chunk)
        {
            var index = Interlocked.Increment(ref _next);
            chunk = index < chunks.Count ? chunks[index] : null;
            return chunk is not null;
        }

        public void Complete(SpeechChunk chunk)
        {
            // Under a lock so that reports from two workers never go backwards.
            lock (_progressLock)
            {
                _doneSamples += chunk.SampleCount;
                progress?.Report(Math.Min(1, (double)_doneSamples / totalSamples));
            }
        }
    }
}
