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
            var utterances = await DecodeAsync(wav, chunks, progress, cancellationToken);

            var segments = chunks.SelectMany(c => Segments(c, utterances[c.Index])).ToList();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _logger.LogInformation(
                "Transcribed {Duration:0.0} s of audio in {Chunks} chunks with up to {Parallelism} decoders in {Elapsed:0.0} s ({Speed:0.00} s of audio per second)",
                wav.DurationSeconds, chunks.Count, _options.Parallelism, elapsed, wav.DurationSeconds / Math.Max(elapsed, 1e-3));
            return new Transcript("en", string.Join(' ', segments.Select(s => s.Text)), segments, Name, Model);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw StepException.Retryable($"Reading the audio extract failed: {e.Message}", e);
        }
    }

    /// <summary>Decodes every chunk; the result at index i is chunk i's utterance.</summary>
    private async Task<Utterance[]> DecodeAsync(PcmWav wav, IReadOnlyList<SpeechChunk> chunks, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var utterances = new Utterance[chunks.Count];
        if (chunks.Count == 0)
        {
            progress?.Report(1);
            return utterances;
        }

        var queue = new ChunkQueue(chunks, wav.SampleCount, progress);
        var bufferSamples = chunks.Max(c => c.SoundSampleCount);
        // Cancelled by the caller, or by the first worker that fails so that the others stop between chunks.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = Enumerable.Range(0, Math.Min(_options.Parallelism, chunks.Count))
            .Select(_ => RunWorkerAsync(wav, queue, utterances, bufferSamples, stop))
            .ToArray();
        await Task.WhenAll(workers);
        return utterances;
    }

    private async Task RunWorkerAsync(PcmWav wav, ChunkQueue queue, Utterance[] utterances, int bufferSamples, CancellationTokenSource stop)
    {
        await _decoderSlots.WaitAsync(stop.Token);
        try
        {
            // Decoding blocks for seconds in native code: a dedicated thread, not a thread-pool thread the silo needs.
            await Task.Factory.StartNew(
                () => DecodeChunks(wav, queue, utterances, bufferSamples, stop.Token),
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

    private void DecodeChunks(PcmWav wav, ChunkQueue queue, Utterance[] utterances, int bufferSamples, CancellationToken cancellationToken)
    {
        Decoder? decoder = null;
        var buffer = new short[bufferSamples];
        try
        {
            while (!cancellationToken.IsCancellationRequested && queue.TryTake(out var chunk))
            {
                if (chunk.HasSound)
                {
                    // Loaded on the first chunk with sound only: a worker that finds no such work costs nothing.
                    decoder ??= Decoder.Create(_model);
                    var read = wav.Read(chunk.SoundStartSample, buffer.AsSpan(0, chunk.SoundSampleCount));
                    utterances[chunk.Index] = decoder.Decode(buffer.AsSpan(0, read));
                }
                else
                {
                    utterances[chunk.Index] = Utterance.Empty;
                }
                queue.Complete(chunk);
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
    private sealed class ChunkQueue(IReadOnlyList<SpeechChunk> chunks, long totalSamples, IProgress<double>? progress)
    {
        private readonly Lock _progressLock = new();
        private int _next = -1;
        private long _doneSamples;

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
