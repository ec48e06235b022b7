namespace MediaActors.Providers.Transcription.Local;

/// <summary>
/// A stretch of the audio between two cuts, [StartSample, StartSample + SampleCount), and the part of it that has sound,
/// which is what gets decoded (empty when the chunk is all silence).
/// </summary>
public sealed record SpeechChunk(int Index, long StartSample, int SampleCount, long SoundStartSample, int SoundSampleCount)
{
    public double StartSeconds => (double)StartSample / PcmWav.SampleRate;

    public double EndSeconds => (double)(StartSample + SampleCount) / PcmWav.SampleRate;

    public double SoundStartSeconds => (double)SoundStartSample / PcmWav.SampleRate;

    public double SoundEndSeconds => (double)(SoundStartSample + SoundSampleCount) / PcmWav.SampleRate;

    public bool HasSound => SoundSampleCount > 0;
}

/// <summary>
/// Cuts audio into chunks of roughly a third of the maximum up to the maximum length, in pauses:
/// frame energy (RMS over 30 ms) against a threshold adapted to the recording's own noise floor and speech level.
/// The silence at either end of a chunk is left out of what is decoded, and a chunk of silence is not decoded at all.
/// </summary>
public static class SilenceSplitter
{
    /// <summary>30 ms at 16 kHz.</summary>
    public const int FrameSamples = 480;

    public const double FrameSeconds = (double)FrameSamples / PcmWav.SampleRate;

    // Frames per block read while measuring: about 2 s, so a 1-hour file streams through a 60 KB buffer.
    private const int FramesPerRead = 64;

    // Where the pause threshold sits between the noise floor (10th percentile) and the speech level (90th percentile).
    private const float ThresholdShare = 0.1f;

    // The fallback cut (no pause in the window) looks for the quietest 300 ms, not a single quiet frame inside a word.
    private const int SmoothingFrames = 10;

    // Below this RMS (-70 dBFS) a frame is silence whatever the recording: pocketsphinx hears "dog" in digital silence.
    private const float MinSoundRms = 10;

    // Silence kept around the sound of a chunk, so the decoder sees the start and end of the first and last words.
    private const int SoundMarginFrames = 10;

    /// <summary>Measures the file (streamed) and plans its chunks; none is longer than <paramref name="maxChunkSeconds"/>.</summary>
    public static IReadOnlyList<SpeechChunk> Plan(PcmWav wav, double maxChunkSeconds, CancellationToken cancellationToken)
    {
        var rms = MeasureFrames(wav, cancellationToken);
        var maxFrames = Math.Max(1, (int)(maxChunkSeconds / FrameSeconds));
        var soundLevel = Math.Max(PauseThreshold(rms), MinSoundRms);
        var chunks = new List<SpeechChunk>();
        foreach (var (start, end) in Split(rms, maxFrames))
        {
            var (soundStart, soundEnd) = SoundWithin(rms, start, end, soundLevel);
            var (startSample, endSample) = Samples(start, end, wav.SampleCount);
            var (soundStartSample, soundEndSample) = Samples(soundStart, soundEnd, wav.SampleCount);
            chunks.Add(new SpeechChunk(chunks.Count, startSample, (int)(endSample - startSample), soundStartSample, (int)(soundEndSample - soundStartSample)));
        }
        return chunks;
    }

    /// <summary>The frames of [start, end) from the first to the last with sound, plus a margin; empty (start, start) when none has.</summary>
    public static (int Start, int End) SoundWithin(ReadOnlySpan<float> frameRms, int start, int end, float soundLevel)
    {
        var first = start;
        while (first < end && frameRms[first] < soundLevel)
        {
            first++;
        }
        if (first == end)
        {
            return (start, start);
        }
        var last = end - 1;
        while (frameRms[last] < soundLevel)
        {
            last--;
        }
        return (Math.Max(start, first - SoundMarginFrames), Math.Min(end, last + 1 + SoundMarginFrames));
    }

    /// <summary>The RMS of every 30 ms frame (the last one may be shorter), read in small blocks.</summary>
    public static float[] MeasureFrames(PcmWav wav, CancellationToken cancellationToken)
    {
        var frames = new float[(wav.SampleCount + FrameSamples - 1) / FrameSamples];
        var buffer = new short[FrameSamples * FramesPerRead];
        for (var first = 0; first < frames.Length; first += FramesPerRead)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = wav.Read((long)first * FrameSamples, buffer);
            for (var f = 0; f * FrameSamples < read; f++)
            {
                var frame = buffer.AsSpan(f * FrameSamples, Math.Min(FrameSamples, read - f * FrameSamples));
                double sum = 0;
                foreach (var s in frame)
                {
                    sum += s * s;
                }
                frames[first + f] = (float)Math.Sqrt(sum / frame.Length);
            }
        }
        return frames;
    }

    /// <summary>
    /// Splits frames into [start, end) ranges of at most <paramref name="maxFrames"/> frames. Each cut is in the longest pause
    /// between a third of the maximum and the maximum; with no pause there, in the quietest 300 ms.
    /// </summary>
    public static IReadOnlyList<(int Start, int End)> Split(ReadOnlySpan<float> frameRms, int maxFrames)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrames, 1);
        var ranges = new List<(int, int)>();
        if (frameRms.IsEmpty)
        {
            return ranges;
        }

        var threshold = PauseThreshold(frameRms);
        var smoothed = Smooth(frameRms, SmoothingFrames);
        var minFrames = Math.Max(1, maxFrames / 3);
        var start = 0;
        while (frameRms.Length - start > maxFrames)
        {
            var cut = CutIn(frameRms, smoothed, threshold, start + minFrames, start + maxFrames);
            ranges.Add((start, cut));
            start = cut;
        }
        ranges.Add((start, frameRms.Length));
        return ranges;
    }

    // The last frame may be partial.
    private static (long Start, long End) Samples(int startFrame, int endFrame, long sampleCount) =>
        (Math.Min((long)startFrame * FrameSamples, sampleCount), Math.Min((long)endFrame * FrameSamples, sampleCount));

    /// <summary>Frames quieter than this are pauses: a tenth of the way from the noise floor to the speech level.</summary>
    public static float PauseThreshold(ReadOnlySpan<float> frameRms)
    {
        if (frameRms.IsEmpty)
        {
            return 0;
        }
        var sorted = frameRms.ToArray();
        Array.Sort(sorted);
        var floor = sorted[(int)(0.1 * (sorted.Length - 1))];
        var speech = sorted[(int)(0.9 * (sorted.Length - 1))];
        return floor + ThresholdShare * (speech - floor);
    }

    // A cut in [from, to]: the middle of the longest run of pause frames there (the latest on ties, for longer chunks),
    // else the quietest smoothed frame.
    private static int CutIn(ReadOnlySpan<float> rms, float[] smoothed, float threshold, int from, int to)
    {
        int bestStart = -1, bestLength = 0, runStart = -1;
        for (var f = from; f < to; f++)
        {
            if (rms[f] < threshold)
            {
                if (runStart < 0)
                {
                    runStart = f;
                }
                if (f + 1 - runStart >= bestLength)
                {
                    (bestStart, bestLength) = (runStart, f + 1 - runStart);
                }
            }
            else
            {
                runStart = -1;
            }
        }
        if (bestStart >= 0)
        {
            return bestStart + bestLength / 2;
        }

        var quietest = from;
        for (var f = from + 1; f < to; f++)
        {
            if (smoothed[f] < smoothed[quietest])
            {
                quietest = f;
            }
        }
        return quietest;
    }

    private static float[] Smooth(ReadOnlySpan<float> values, int width)
    {
        var result = new float[values.Length];
        double sum = 0;
        var half = width / 2;
        // A centred moving average, kept as a running sum over the window [f - half, f + half].
        for (var f = 0; f < Math.Min(half, values.Length); f++)
        {
            sum += values[f];
        }
        for (var f = 0; f < values.Length; f++)
        {
            if (f + half < values.Length)
            {
                sum += values[f + half];
            }
            if (f - half - 1 >= 0)
            {
                sum -= values[f - half - 1];
            }
            var count = Math.Min(values.Length, f + half + 1) - Math.Max(0, f - half);
            result[f] = (float)(sum / count);
        }
        return result;
    }
}
