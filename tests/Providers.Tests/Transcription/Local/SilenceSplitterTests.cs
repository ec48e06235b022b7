using MediaActors.Providers.Transcription.Local;

namespace MediaActors.Providers.Tests.Transcription.Local;

/// <summary>The chunk planner on synthetic energy profiles (RMS per 30 ms frame).</summary>
public sealed class SilenceSplitterTests
{
    private static int Frames(double seconds) => (int)(seconds / SilenceSplitter.FrameSeconds);

    [Fact]
    public void Audio_no_longer_than_the_maximum_is_one_chunk()
    {
        var rms = Profile(seed: 1, ("speech", 29.9));
        Assert.Equal([(0, rms.Length)], SilenceSplitter.Split(rms, Frames(30)));
    }

    [Fact]
    public void Cuts_in_the_pause_between_a_third_of_the_maximum_and_the_maximum()
    {
        var rms = Profile(seed: 2, ("speech", 18), ("pause", 1), ("speech", 25));
        var chunks = SilenceSplitter.Split(rms, Frames(30));
        Assert.Equal(2, chunks.Count);
        Assert.InRange(chunks[0].End, Frames(18), Frames(19));
    }

    [Fact]
    public void Prefers_the_longest_pause_to_a_short_one()
    {
        var rms = Profile(seed: 3, ("speech", 12), ("pause", 0.3), ("speech", 8), ("pause", 1.2), ("speech", 5), ("pause", 0.3), ("speech", 20));
        var cut = SilenceSplitter.Split(rms, Frames(30))[0].End;
        Assert.InRange(cut, Frames(20.3), Frames(21.5));
    }

    [Fact]
    public void A_pause_before_a_third_of_the_maximum_is_not_used()
    {
        // The only long pause is at 5 s, too early for a 30 s maximum: the cut goes to the quietest point of [10 s, 30 s].
        var rms = Profile(seed: 4, ("speech", 5), ("pause", 2), ("speech", 40));
        var cut = SilenceSplitter.Split(rms, Frames(30))[0].End;
        Assert.InRange(cut, Frames(10), Frames(30));
    }

    [Fact]
    public void Pause_threshold_adapts_to_the_recording_level()
    {
        // The same recording 20 dB quieter: the same cut.
        var loud = Profile(seed: 5, ("speech", 14), ("pause", 0.6), ("speech", 9), ("pause", 0.9), ("speech", 20));
        var quiet = loud.Select(r => r / 10).ToArray();
        Assert.Equal(SilenceSplitter.Split(loud, Frames(30)), SilenceSplitter.Split(quiet, Frames(30)));
        Assert.InRange(SilenceSplitter.Split(quiet, Frames(30))[0].End, Frames(23.6), Frames(24.5));
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(7, 30)]
    [InlineData(9, 3)]
    public void Chunks_cover_the_audio_in_order_and_none_is_longer_than_the_maximum(int seed, double maxSeconds)
    {
        // An hour of speech with pauses of random length, including stretches with none at all.
        var random = new Random(seed);
        var parts = new List<(string, double)>();
        for (var total = 0.0; total < 3600;)
        {
            var speech = random.NextDouble() * 60;
            var pause = random.NextDouble() < 0.3 ? 0 : random.NextDouble() * 1.5;
            parts.Add(("speech", speech));
            parts.Add(("pause", pause));
            total += speech + pause;
        }
        var rms = Profile(seed, [.. parts]);
        var maxFrames = Frames(maxSeconds);
        var chunks = SilenceSplitter.Split(rms, maxFrames);

        Assert.Equal(0, chunks[0].Start);
        Assert.Equal(rms.Length, chunks[^1].End);
        for (var i = 0; i < chunks.Count; i++)
        {
            Assert.InRange(chunks[i].End - chunks[i].Start, 1, maxFrames);
            if (i > 0)
            {
                Assert.Equal(chunks[i - 1].End, chunks[i].Start);
            }
            if (i < chunks.Count - 1)
            {
                Assert.True(chunks[i].End - chunks[i].Start >= maxFrames / 3, "cut before a third of the maximum");
            }
        }
    }

    [Fact]
    public async Task Planning_an_hour_of_audio_streams_the_file_instead_of_loading_it()
    {
        var folder = Directory.CreateTempSubdirectory("splitter-tests-").FullName;
        try
        {
            // 115 MB of 16 kHz s16: noise bursts of 2.5 s with 0.5 s pauses.
            var path = Path.Combine(folder, "hour.wav");
            await LibriVoxAudio.SoxAsync("-n", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", path,
                "synth", "3", "whitenoise", "trim", "0", "2.5", "pad", "0", "0.5", "repeat", "1199", "vol", "0.3");
            using var wav = PcmWav.Open(path);
            Assert.Equal(3600, wav.DurationSeconds, 1);

            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var chunks = SilenceSplitter.Plan(wav, 30, CancellationToken.None);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

            // Frame energies and a read buffer: about 2 MB, not the file's 115 MB.
            Assert.InRange(allocated, 0, 8 << 20);
            Assert.InRange(chunks.Count, 120, 360);
            Assert.All(chunks.SkipLast(1), c => Assert.InRange(c.SampleCount, 10 * PcmWav.SampleRate, 30 * PcmWav.SampleRate));
            Assert.All(chunks, c => Assert.True(c.HasSound && c.SoundSampleCount <= c.SampleCount));
            // Every cut falls in a pause: 2.5 s to 3 s into a 3 s period.
            Assert.All(chunks.Skip(1), c => Assert.InRange(c.StartSeconds % 3, 2.5, 3.0));
            Assert.Equal(wav.SampleCount, chunks.Sum(c => (long)c.SampleCount));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_sound_of_a_chunk_is_trimmed_of_its_silence_but_a_margin()
    {
        float[] rms = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 500, 0, 600, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal((2, 25), SilenceSplitter.SoundWithin(rms, 0, rms.Length, 100));
        Assert.Equal((5, 20), SilenceSplitter.SoundWithin(rms, 5, 20, 100));
        Assert.Equal((15, 15), SilenceSplitter.SoundWithin(rms, 15, 30, 100));
    }

    [Fact]
    public void No_audio_is_no_chunk()
    {
        Assert.Empty(SilenceSplitter.Split([], Frames(30)));
    }

    // Speech frames between 800 and 4000 RMS with dips like stop consonants, pause frames between 30 and 120 (room noise).
    private static float[] Profile(int seed, params (string Kind, double Seconds)[] parts)
    {
        var random = new Random(seed);
        var frames = new List<float>();
        foreach (var (kind, seconds) in parts)
        {
            for (var i = 0; i < Frames(seconds); i++)
            {
                frames.Add(kind == "pause"
                    ? 30 + (float)random.NextDouble() * 90
                    : random.NextDouble() < 0.05 ? 150 + (float)random.NextDouble() * 200 : 800 + (float)random.NextDouble() * 3200);
            }
        }
        return [.. frames];
    }
}
