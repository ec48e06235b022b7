using MediaActors.Providers.Transcription.Local;

namespace MediaActors.Providers.Tests.Transcription.Local;

public sealed class PcmWavTests : IDisposable
{
    private static readonly short[] _samples = [0, 1, -1, short.MaxValue, short.MinValue, 1234, -4321, 7];

    private readonly string _folder = Directory.CreateTempSubdirectory("pcmwav-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Reads_the_samples_of_a_canonical_44_byte_header()
    {
        using var wav = PcmWav.Open(Write(TestWav.Build(_samples)));
        Assert.Equal(_samples.Length, wav.SampleCount);
        Assert.Equal(_samples, ReadAll(wav));
        Assert.Equal(_samples.Length / 16000.0, wav.DurationSeconds);
    }

    [Fact]
    public void Finds_the_data_chunk_after_other_chunks_and_their_pad_byte()
    {
        using var wav = PcmWav.Open(Write(TestWav.Build(_samples, chunkBeforeData: TestWav.OddListChunk())));
        Assert.Equal(_samples, ReadAll(wav));
    }

    [Fact]
    public void Accepts_wave_format_extensible_pcm()
    {
        using var wav = PcmWav.Open(Write(TestWav.Build(_samples, extensible: true)));
        Assert.Equal(_samples, ReadAll(wav));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(uint.MaxValue)]
    public void A_streamed_header_without_a_data_size_reads_to_the_end_of_the_file(uint declared)
    {
        using var wav = PcmWav.Open(Write(TestWav.Build(_samples, declaredDataSize: declared)));
        Assert.Equal(_samples, ReadAll(wav));
    }

    [Fact]
    public void Reads_from_a_position_and_stops_at_the_end()
    {
        using var wav = PcmWav.Open(Write(TestWav.Build(_samples)));
        var buffer = new short[10];
        Assert.Equal(3, wav.Read(5, buffer));
        Assert.Equal(_samples[5..], buffer[..3]);
        Assert.Equal(0, wav.Read(100, buffer));
    }

    [Theory]
    [InlineData(44100, 1, 16, "44100 Hz, 1 channel(s), 16-bit")]
    [InlineData(16000, 2, 16, "16000 Hz, 2 channel(s), 16-bit")]
    [InlineData(16000, 1, 8, "16000 Hz, 1 channel(s), 8-bit")]
    public void Other_formats_are_a_permanent_error(int rate, int channels, int bits, string described)
    {
        var path = Write(TestWav.Build(_samples, rate, channels, bits));
        var error = Assert.Throws<StepException>(() => PcmWav.Open(path));
        Assert.False(error.Transient);
        Assert.Contains(described, error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ID3\u0004 an mp3 file")]
    [InlineData("RIFF\0\0\0\0AVI LIST")]
    public void Files_that_are_not_wav_are_a_permanent_error(string content)
    {
        var path = Path.Combine(_folder, "input.wav");
        File.WriteAllText(path, content);
        var error = Assert.Throws<StepException>(() => PcmWav.Open(path));
        Assert.False(error.Transient);
        Assert.Contains("not a WAV file", error.Message);
    }

    [Fact]
    public void A_wav_without_a_data_chunk_is_a_permanent_error()
    {
        var bytes = TestWav.Build(_samples);
        var path = Write(bytes[..36]);
        var error = Assert.Throws<StepException>(() => PcmWav.Open(path));
        Assert.Contains("no audio data chunk", error.Message);
    }

    [Fact]
    public void A_missing_file_is_a_permanent_error()
    {
        var error = Assert.Throws<StepException>(() => PcmWav.Open(Path.Combine(_folder, "missing.wav")));
        Assert.False(error.Transient);
    }

    private string Write(byte[] bytes)
    {
        var path = Path.Combine(_folder, $"{Guid.NewGuid():N}.wav");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static short[] ReadAll(PcmWav wav)
    {
        var samples = new short[wav.SampleCount];
        Assert.Equal(samples.Length, wav.Read(0, samples));
        return samples;
    }
}
