using MediaActors.Providers.Transcription.Local;

namespace MediaActors.Providers.Tests.Transcription.Local;

/// <summary>The P/Invoke decoder itself, on the LibriVox clips.</summary>
public sealed class DecoderTests(LibriVoxAudio audio) : IClassFixture<LibriVoxAudio>
{
    [Theory]
    [InlineData("the", "the")]
    [InlineData("the(2)", "the")]
    [InlineData("'bout", "'bout")]
    [InlineData("<s>", null)]
    [InlineData("</s>", null)]
    [InlineData("<sil>", null)]
    [InlineData("[NOISE]", null)]
    [InlineData("[SPEECH]", null)]
    [InlineData("++UH++", null)]
    [InlineData("", null)]
    public void Cleans_dictionary_entries_into_words(string entry, string? word)
    {
        Assert.Equal(word, Decoder.CleanWord(entry));
    }

    [Fact]
    public void The_timed_words_are_the_hypothesis()
    {
        using var decoder = Decoder.Create(PocketSphinxModel.DebianEnUs);
        foreach (var clip in audio.Clips)
        {
            var utterance = decoder.Decode(Samples(clip.WavPath));
            Assert.NotEmpty(utterance.Words);
            Assert.Equal(utterance.Hypothesis, string.Join(' ', utterance.Words.Select(w => w.Text)));
            Assert.All(utterance.Words, w => Assert.InRange(w.End, w.Start, clip.DurationSeconds));
        }
    }

    [Fact]
    public void A_reused_decoder_gives_what_a_fresh_one_gives()
    {
        var clip = Samples(audio.Clips[1].WavPath);
        using var fresh = Decoder.Create(PocketSphinxModel.DebianEnUs);
        using var reused = Decoder.Create(PocketSphinxModel.DebianEnUs);
        foreach (var other in audio.Clips.Skip(2))
        {
            reused.Decode(Samples(other.WavPath));
        }
        Assert.Equal(fresh.Decode(clip).Words, reused.Decode(clip).Words);
    }

    [Fact]
    public void Leading_silence_shifts_the_words_by_its_length()
    {
        var clip = Samples(audio.Clips[1].WavPath);
        var padded = new short[3 * PcmWav.SampleRate + clip.Length];
        clip.CopyTo(padded, 3 * PcmWav.SampleRate);
        using var decoder = Decoder.Create(PocketSphinxModel.DebianEnUs);

        var plain = decoder.Decode(clip).Words;
        var shifted = decoder.Decode(padded).Words;
        Assert.Equal(plain.Select(w => w.Text), shifted.Select(w => w.Text));
        Assert.All(plain.Zip(shifted), pair => Assert.Equal(pair.First.Start + 3, pair.Second.Start, 0.02));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(400)]
    public void Scraps_of_audio_give_no_words(int samples)
    {
        using var decoder = Decoder.Create(PocketSphinxModel.DebianEnUs);
        Assert.Empty(decoder.Decode(new short[samples]).Words);
    }

    [Fact]
    public void Quiet_room_noise_gives_no_words()
    {
        // (Digital silence, all zeros, is another matter: pocketsphinx hears "dog" in it, so the splitter never sends it.)
        var random = new Random(1);
        var noise = new short[5 * PcmWav.SampleRate];
        for (var i = 0; i < noise.Length; i++)
        {
            noise[i] = (short)random.Next(-60, 60);
        }
        using var decoder = Decoder.Create(PocketSphinxModel.DebianEnUs);
        Assert.Empty(decoder.Decode(noise).Words);
    }

    [Fact]
    public void A_disposed_decoder_refuses_work()
    {
        var decoder = Decoder.Create(PocketSphinxModel.DebianEnUs);
        decoder.Dispose();
        Assert.Throws<ObjectDisposedException>(() => decoder.Decode(new short[PcmWav.SampleRate]));
    }

    [Fact]
    public void Missing_dictionary_is_a_permanent_error_naming_the_debian_package()
    {
        var model = PocketSphinxModel.DebianEnUs with { DictionaryPath = audio.PathOf("missing.dict") };
        var error = Assert.Throws<StepException>(() => Decoder.Create(model));
        Assert.False(error.Transient);
        Assert.Contains("pocketsphinx-en-us", error.Message);
    }

    private static short[] Samples(string wavPath)
    {
        using var wav = PcmWav.Open(wavPath);
        var samples = new short[wav.SampleCount];
        wav.Read(0, samples);
        return samples;
    }
}
