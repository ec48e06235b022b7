using MediaActors.Providers.Transcription;
using MediaActors.Providers.Transcription.Local;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace MediaActors.Providers.Tests.Transcription.Local;

/// <summary>The pocketsphinx transcriber on real read speech (Debian's pocketsphinx-testdata).</summary>
public sealed class LocalTranscriberTests(LibriVoxAudio audio, ITestOutputHelper output) : IClassFixture<LibriVoxAudio>
{
    // Measured 25.4% over the five clips (18 errors in 71 words; also 25.4% for all five in one file cut into 6 s chunks),
    // in line with the ~27% of pocketsphinx's own expected output for these clips (test-lm.match). 45% leaves room for
    // changes in chunking or the Debian package, while a broken decoder, timing or text assembly lands far above it.
    private const double MaxWordErrorRate = 0.45;

    // Short enough that the 25 s of all five clips make several chunks.
    private const double SmallChunkSeconds = 6;

    [Fact]
    public async Task Word_error_rate_on_the_LibriVox_clips_is_below_the_bound()
    {
        var transcriber = new LocalTranscriber(new LocalTranscriberOptions());
        int errors = 0, words = 0;
        foreach (var clip in audio.Clips)
        {
            var transcript = await transcriber.TranscribeAsync(Input(clip.WavPath), null, CancellationToken.None);
            var reference = WordErrorRate.Normalize(clip.Reference);
            var distance = WordErrorRate.Distance(reference, WordErrorRate.Normalize(transcript.Text));
            output.WriteLine($"{clip.Id}: {distance}/{reference.Count} \"{transcript.Text}\"");
            errors += distance;
            words += reference.Count;
        }
        var wer = (double)errors / words;
        output.WriteLine($"WER {wer:P1} ({errors}/{words})");
        Assert.InRange(wer, 0, MaxWordErrorRate);
    }

    [Fact]
    public async Task Word_error_rate_stays_below_the_bound_when_one_file_is_cut_into_chunks()
    {
        var transcriber = new LocalTranscriber(new LocalTranscriberOptions { MaxChunkSeconds = SmallChunkSeconds });
        var transcript = await transcriber.TranscribeAsync(Input(audio.AllClips), null, CancellationToken.None);
        var wer = WordErrorRate.Of(audio.AllReferences, transcript.Text);
        output.WriteLine($"WER {wer:P1} on all clips in {SmallChunkSeconds} s chunks: \"{transcript.Text}\"");
        Assert.InRange(wer, 0, MaxWordErrorRate);
    }

    [Fact]
    public async Task Records_provider_model_language_and_text_made_of_the_segments()
    {
        var transcript = await new LocalTranscriber(new LocalTranscriberOptions()).TranscribeAsync(Input(audio.A.WavPath), null, CancellationToken.None);
        Assert.Equal("local-pocketsphinx", transcript.Provider);
        Assert.Equal("pocketsphinx-en-us", transcript.Model);
        Assert.Equal("en", transcript.Language);
        Assert.NotEmpty(transcript.Segments);
        Assert.Equal(string.Join(' ', transcript.Segments.Select(s => s.Text)), transcript.Text);
        Assert.All(transcript.Segments, s => Assert.Equal(string.Join(' ', s.Words!.Select(w => w.Text)), s.Text));
        Assert.All(transcript.Segments, s => Assert.Null(s.Speaker));
    }

    [Fact]
    public async Task Timings_are_monotonic_and_inside_the_audio()
    {
        using var wav = PcmWav.Open(audio.AllClips);
        var transcriber = new LocalTranscriber(new LocalTranscriberOptions { MaxChunkSeconds = SmallChunkSeconds });
        var transcript = await transcriber.TranscribeAsync(Input(audio.AllClips), null, CancellationToken.None);

        var words = transcript.Segments.SelectMany(s => s.Words!).ToList();
        Assert.True(words.Count > 40, $"only {words.Count} words");
        Assert.All(words, w => Assert.True(w.Start >= 0 && w.Start < w.End && w.End <= wav.DurationSeconds, $"{w}"));
        for (var i = 1; i < words.Count; i++)
        {
            Assert.True(words[i].Start >= words[i - 1].End, $"{words[i - 1]} then {words[i]}");
        }
        for (var i = 1; i < transcript.Segments.Count; i++)
        {
            Assert.True(transcript.Segments[i].Start >= transcript.Segments[i - 1].End);
        }
        Assert.All(transcript.Segments, s => Assert.Equal((s.Words![0].Start, s.Words[^1].End), (s.Start, s.End)));
    }

    [Fact]
    public async Task Splits_a_silence_between_two_clips_and_offsets_the_second_clip_by_the_chunk_start()
    {
        const double maxChunkSeconds = 10;
        var bStarts = audio.A.DurationSeconds + LibriVoxAudio.SilenceSeconds;
        using (var wav = PcmWav.Open(audio.ASilenceB))
        {
            // 18 s with a 10 s maximum: two chunks, cut inside the silence.
            var chunks = SilenceSplitter.Plan(wav, maxChunkSeconds, CancellationToken.None);
            Assert.Equal(2, chunks.Count);
            Assert.InRange(chunks[0].EndSeconds, audio.A.DurationSeconds, bStarts);
        }

        var transcriber = new LocalTranscriber(new LocalTranscriberOptions { MaxChunkSeconds = maxChunkSeconds });
        var alone = await transcriber.TranscribeAsync(Input(audio.B.WavPath), null, CancellationToken.None);
        var joined = await transcriber.TranscribeAsync(Input(audio.ASilenceB), null, CancellationToken.None);

        var words = joined.Segments.SelectMany(s => s.Words!).ToList();
        var aWords = words.Where(w => w.Start < audio.A.DurationSeconds).ToList();
        var bWords = words.Where(w => w.Start >= audio.A.DurationSeconds).ToList();
        Assert.All(aWords, w => Assert.True(w.End <= audio.A.DurationSeconds + 0.05, $"{w}"));
        Assert.NotEmpty(bWords);
        // Nothing is heard in the silence, and clip B's words start after clip A and the silence.
        Assert.True(bWords[0].Start >= bStarts, $"B's first word {bWords[0]} starts before {bStarts} s");
        var bAlone = alone.Segments.SelectMany(s => s.Words!).First();
        Assert.Equal(bAlone.Text, bWords[0].Text);
        Assert.Equal(bAlone.Start + bStarts, bWords[0].Start, 0.05);
        Assert.InRange(WordErrorRate.Of(audio.B.Reference, string.Join(' ', bWords.Select(w => w.Text))), 0, MaxWordErrorRate);
        Assert.True(joined.Segments.Count >= 2);
    }

    [Fact]
    public async Task Digital_silence_is_not_transcribed()
    {
        var silence = audio.PathOf("silence-12s.wav");
        await LibriVoxAudio.SoxAsync("-n", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", silence, "trim", "0", "12");
        var silenceThenA = audio.PathOf("silence-then-a.wav");
        await LibriVoxAudio.SoxAsync(silence, audio.A.WavPath, silenceThenA);
        var transcriber = new LocalTranscriber(new LocalTranscriberOptions { MaxChunkSeconds = 10 });

        Assert.Empty((await transcriber.TranscribeAsync(Input(silence), null, CancellationToken.None)).Segments);
        var words = (await transcriber.TranscribeAsync(Input(silenceThenA), null, CancellationToken.None)).Segments.SelectMany(s => s.Words!).ToList();
        Assert.True(words[0].Start >= 12, $"{words[0]} in the silence");
        Assert.InRange(WordErrorRate.Of(audio.A.Reference, string.Join(' ', words.Select(w => w.Text))), 0, MaxWordErrorRate);
    }

    [Fact]
    public async Task Parallel_result_equals_sequential_result_word_for_word()
    {
        var sequentialReports = new List<double>();
        var parallelReports = new List<double>();
        var sequential = await new LocalTranscriber(new LocalTranscriberOptions { Parallelism = 1, MaxChunkSeconds = SmallChunkSeconds })
            .TranscribeAsync(Input(audio.AllClips), new CallbackProgress(sequentialReports.Add), CancellationToken.None);
        var parallel = await new LocalTranscriber(new LocalTranscriberOptions { Parallelism = 2, MaxChunkSeconds = SmallChunkSeconds })
            .TranscribeAsync(Input(audio.AllClips), new CallbackProgress(p => { lock (parallelReports) { parallelReports.Add(p); } }), CancellationToken.None);

        Assert.Equal(sequential.Text, parallel.Text);
        Assert.Equal(
            sequential.Segments.SelectMany(s => s.Words!).Select(w => (w.Start, w.End, w.Text)),
            parallel.Segments.SelectMany(s => s.Words!).Select(w => (w.Start, w.End, w.Text)));
        Assert.Equal(sequential.Segments.Select(s => (s.Start, s.End, s.Text)), parallel.Segments.Select(s => (s.Start, s.End, s.Text)));

        // One report per chunk, never going backwards, ending at 1.
        foreach (var reports in new[] { sequentialReports, parallelReports })
        {
            Assert.True(reports.Count >= 3, $"{reports.Count} progress reports");
            Assert.Equal(reports.Order(), reports);
            Assert.Equal(1.0, reports[^1], 9);
        }
    }

    [Fact]
    public async Task Cancelling_stops_between_chunks()
    {
        var transcriber = new LocalTranscriber(new LocalTranscriberOptions { Parallelism = 1, MaxChunkSeconds = SmallChunkSeconds });
        using var cancellation = new CancellationTokenSource();
        var reports = new List<double>();
        var progress = new CallbackProgress(p =>
        {
            reports.Add(p);
            cancellation.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => transcriber.TranscribeAsync(Input(audio.AllClips), progress, cancellation.Token));
        // One decoder: the first chunk finished, cancelled there, and no other chunk was decoded.
        Assert.InRange(Assert.Single(reports), 0.01, 0.5);
    }

    [Fact]
    public async Task An_already_cancelled_token_stops_it_before_any_work()
    {
        var transcriber = new LocalTranscriber(new LocalTranscriberOptions());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => transcriber.TranscribeAsync(Input(audio.AllClips), null, new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task A_file_that_is_not_a_wav_is_a_permanent_error()
    {
        var path = audio.PathOf("not-audio.wav");
        await File.WriteAllTextAsync(path, "This is a text file renamed to .wav, not audio.");
        var error = await Assert.ThrowsAsync<StepException>(
            () => new LocalTranscriber(new LocalTranscriberOptions()).TranscribeAsync(Input(path), null, CancellationToken.None));
        Assert.False(error.Transient);
        Assert.Contains("not a WAV file", error.Message);
    }

    [Fact]
    public async Task A_wav_in_another_format_is_a_permanent_error_that_names_the_expected_format()
    {
        var path = audio.PathOf("cd-quality.wav");
        await LibriVoxAudio.SoxAsync(audio.A.WavPath, "-r", "44100", "-c", "2", path);
        var error = await Assert.ThrowsAsync<StepException>(
            () => new LocalTranscriber(new LocalTranscriberOptions()).TranscribeAsync(Input(path), null, CancellationToken.None));
        Assert.False(error.Transient);
        Assert.Contains("16 kHz mono 16-bit PCM", error.Message);
        Assert.Contains("44100 Hz, 2 channel(s)", error.Message);
    }

    [Fact]
    public async Task Missing_model_files_are_a_permanent_error_naming_the_debian_package()
    {
        var transcriber = new LocalTranscriber(new LocalTranscriberOptions { HmmPath = audio.PathOf("no-such-model") });
        var error = await Assert.ThrowsAsync<StepException>(() => transcriber.TranscribeAsync(Input(audio.A.WavPath), null, CancellationToken.None));
        Assert.False(error.Transient);
        Assert.Contains("pocketsphinx-en-us", error.Message);
    }

    [Fact]
    public async Task Empty_audio_gives_an_empty_transcript()
    {
        var path = audio.PathOf("empty.wav");
        await File.WriteAllBytesAsync(path, TestWav.Build([]));
        var transcript = await new LocalTranscriber(new LocalTranscriberOptions()).TranscribeAsync(Input(path), null, CancellationToken.None);
        Assert.Empty(transcript.Segments);
        Assert.Equal("", transcript.Text);
    }

    [Fact]
    public void Registers_the_transcriber_with_its_options_and_leaves_ITranscriber_to_the_composition_root()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Transcription:Local:Parallelism"] = "3",
            ["Transcription:Local:MaxChunkSeconds"] = "12",
            ["Transcription:Local:DictionaryPath"] = "/opt/model/custom.dict",
        }).Build();
        using var services = new ServiceCollection().AddLogging().AddLocalTranscriber(configuration).BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<LocalTranscriberOptions>>().Value;
        Assert.Equal((3, 12.0, "/opt/model/custom.dict"), (options.Parallelism, options.MaxChunkSeconds, options.DictionaryPath));
        Assert.Equal(PocketSphinxModel.DebianEnUs.HmmPath, options.HmmPath);
        Assert.Same(services.GetRequiredService<LocalTranscriber>(), services.GetRequiredService<LocalTranscriber>());
        Assert.Null(services.GetService<ITranscriber>());
    }

    [Fact]
    public void Rejects_unusable_options()
    {
        Assert.Throws<ArgumentException>(() => new LocalTranscriber(new LocalTranscriberOptions { Parallelism = 0 }));
        Assert.Throws<ArgumentException>(() => new LocalTranscriber(new LocalTranscriberOptions { MaxChunkSeconds = 1 }));
    }

    private static TranscriptionInput Input(string wav) => new(wav, null, 0);

    /// <summary>Reports on the calling thread, unlike Progress&lt;T&gt;, so a test sees every report before the call returns.</summary>
    private sealed class CallbackProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
