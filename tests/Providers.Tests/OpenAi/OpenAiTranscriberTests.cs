using MediaActors.Providers.OpenAi;
using MediaActors.Providers.Tests.Fakes;
using MediaActors.Providers.Transcription;
using MediaActors.Providers.Tests.Transcription;
using MediaActors.Providers.Transcription.OpenAi;

namespace MediaActors.Providers.Tests.OpenAi;

public sealed class OpenAiTranscriberTests : IAsyncLifetime
{
    private const string TranscriptionsPath = "/v1/audio/transcriptions";
    private readonly OpenAiTestAudio _audio = new();
    private FakeOpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _audio.Dispose();
    }

    [Fact]
    public async Task Sends_verbose_json_with_segment_and_word_granularities_the_model_and_the_bearer_key()
    {
        var wav = await _audio.WavAsync(12);

        var transcript = await Transcriber().TranscribeAsync(new TranscriptionInput(wav, null, 12), null, CancellationToken.None);

        var request = Assert.Single(_server.RequestsTo(TranscriptionsPath));
        Assert.Equal("POST", request.Method);
        Assert.True(request.Authorized);
        Assert.Equal("Bearer [redacted]", request.Headers["Authorization"]);
        Assert.StartsWith("multipart/form-data", request.Headers["Content-Type"]);
        Assert.Equal("whisper-1", request.FormValue("model"));
        Assert.Equal("verbose_json", request.FormValue("response_format"));
        Assert.Equal(["segment", "word"], request.FormValues("timestamp_granularities[]").Order());
        Assert.Equal("audio.wav", request.FileName);
        Assert.Equal(new FileInfo(wav).Length, request.FileSize);

        Assert.Equal("openai", transcript.Provider);
        Assert.Equal("whisper-1", transcript.Model);
        Assert.Equal("en", transcript.Language);
        Assert.Equal(3, transcript.Segments.Count);
        Assert.Equal([0.0, 5.0, 10.0], transcript.Segments.Select(s => s.Start));
        Assert.Equal(12.0, transcript.Segments[^1].End, 2);
        Assert.Equal(_server.Sentences[0], transcript.Segments[0].Text);
        Assert.StartsWith(_server.Sentences[0], transcript.Text);
        Assert.All(transcript.Segments, s =>
        {
            Assert.NotNull(s.Words);
            Assert.Equal(s.Text.Split(' ').Length, s.Words!.Count);
            Assert.All(s.Words, w => Assert.InRange(w.Start, s.Start, s.End));
        });
        Assert.Null(transcript.Segments[0].Speaker);
    }

    [Fact]
    public async Task Sends_the_language_hint_and_prompt()
    {
        var wav = await _audio.WavAsync(3);
        var options = Options();
        options.Prompt = "MediaActors, Orleans";

        await Transcriber(options).TranscribeAsync(new TranscriptionInput(wav, null, 3, "en-US"), null, CancellationToken.None);

        var request = Assert.Single(_server.RequestsTo(TranscriptionsPath));
        Assert.Equal("en", request.FormValue("language"));
        Assert.Equal("MediaActors, Orleans", request.FormValue("prompt"));
    }

    [Fact]
    public async Task Uploads_the_compressed_copy_when_there_is_one()
    {
        var wav = await _audio.WavAsync(8);
        var mp3 = await _audio.Mp3Async(8);

        await Transcriber().TranscribeAsync(new TranscriptionInput(wav, mp3, 8), null, CancellationToken.None);

        var request = Assert.Single(_server.RequestsTo(TranscriptionsPath));
        Assert.Equal("audio.mp3", request.FileName);
        Assert.Equal(new FileInfo(mp3).Length, request.FileSize);
    }

    [Fact]
    public async Task Splits_audio_over_the_upload_limit_into_chunks_and_offsets_every_timestamp()
    {
        const long maxUpload = 200_000;
        var wav = await _audio.WavAsync(70);
        Assert.True(new FileInfo(wav).Length > maxUpload);
        _server.MaxUploadBytes = maxUpload;
        _server.IncludeSpeakers = true;
        var options = Options();
        options.MaxUploadBytes = maxUpload;
        options.ChunkSeconds = 20;
        options.Parallelism = 3;
        var progress = new RecordingProgress();

        var transcript = await Transcriber(options).TranscribeAsync(new TranscriptionInput(wav, null, 70), progress, CancellationToken.None);

        var uploads = _server.RequestsTo(TranscriptionsPath);
        Assert.Equal(4, uploads.Count);
        Assert.All(uploads, u =>
        {
            Assert.Equal(200, u.ResponseStatus);
            Assert.InRange(u.FileSize!.Value, 1, maxUpload);
            Assert.EndsWith(".mp3", u.FileName);
            Assert.Equal("verbose_json", u.FormValue("response_format"));
        });
        var durations = uploads.Select(u => u.FileDurationSeconds!.Value).Order().ToList();
        Assert.Equal(10, durations[0], 0);
        Assert.All(durations.Skip(1), d => Assert.Equal(20, d, 0));

        // Each chunk's segments start at 0, 5, 10, 15 within the chunk: absolute starts are 0, 5, ..., 65.
        Assert.Equal(Enumerable.Range(0, 14).Select(i => i * 5.0), transcript.Segments.Select(s => Math.Round(s.Start, 1)));
        for (var i = 1; i < transcript.Segments.Count; i++)
        {
            Assert.True(transcript.Segments[i].Start >= transcript.Segments[i - 1].End - 0.001, $"segment {i} overlaps the previous one");
        }

        Assert.All(transcript.Segments, s =>
        {
            Assert.True(s.End >= s.Start);
            Assert.NotNull(s.Speaker);
            Assert.All(s.Words!, w => Assert.InRange(w.Start, s.Start, s.End));
        });
        var words = transcript.Segments.SelectMany(s => s.Words!).ToList();
        Assert.Equal(words.Select(w => w.Start).Order(), words.Select(w => w.Start));
        Assert.InRange(transcript.Segments[^1].End, 69.5, 70.1);
        Assert.Equal(string.Join(' ', Enumerable.Repeat(string.Join(' ', _server.Sentences.Take(4)), 3)) + " " + _server.Sentences[0] + " " + _server.Sentences[1], transcript.Text);

        Assert.Equal(1.0, progress.Values[^1]);
        Assert.Equal(progress.Values.Order(), progress.Values);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_audio.ChunkDirectory));
    }

    [Fact]
    public async Task Shortens_chunks_when_even_the_lowest_bitrate_would_not_fit()
    {
        const long maxUpload = 100_000;
        var wav = await _audio.WavAsync(45);
        _server.MaxUploadBytes = maxUpload;
        var options = Options();
        options.MaxUploadBytes = maxUpload;
        options.ChunkSeconds = 600;

        var transcript = await Transcriber(options).TranscribeAsync(new TranscriptionInput(wav, null, 45), null, CancellationToken.None);

        var uploads = _server.RequestsTo(TranscriptionsPath);
        Assert.True(uploads.Count >= 2);
        Assert.All(uploads, u => Assert.InRange(u.FileSize!.Value, 1, maxUpload));
        Assert.InRange(transcript.Segments[^1].End, 44.5, 45.1);
    }

    [Fact]
    public async Task A_duration_that_is_too_long_does_not_send_an_empty_last_chunk()
    {
        var wav = await _audio.WavAsync(39);
        _server.MaxUploadBytes = 200_000;
        var options = Options();
        options.MaxUploadBytes = 200_000;
        options.ChunkSeconds = 20;

        var transcript = await Transcriber(options).TranscribeAsync(new TranscriptionInput(wav, null, 62), null, CancellationToken.None);

        Assert.Equal(2, _server.RequestsTo(TranscriptionsPath).Count);
        Assert.InRange(transcript.Segments[^1].End, 38.5, 39.1);
    }

    [Fact]
    public async Task Reads_speaker_labels_from_segments()
    {
        var wav = await _audio.WavAsync(10);
        _server.SegmentScript = _ => [new FakeSegment(0, 4, "Hello there.", "alice"), new FakeSegment(4, 9.5, "Hi, how are you?", "bob")];

        var transcript = await Transcriber().TranscribeAsync(new TranscriptionInput(wav, null, 10), null, CancellationToken.None);

        Assert.Equal(["alice", "bob"], transcript.Segments.Select(s => s.Speaker));
        Assert.Equal(["Hello", "there"], transcript.Segments[0].Words!.Select(w => w.Text));
        Assert.Equal("Hello there. Hi, how are you?", transcript.Text);
    }

    [Fact]
    public async Task Reads_the_variants_of_other_compatible_servers()
    {
        var wav = await _audio.WavAsync(10);
        _server.TranscriptionResponder = _ => """
            {"text":"Hi there. Bye now.","language":"de","segments":[
              {"start":0.5,"end":2.0,"text":" Hi there.","speaker":1,"words":[{"word":" Hi","start":0.5,"end":1.0},{"word":"there.","start":1.0,"end":2.0}]},
              {"start":"3.0","end":"4.5","text":"Bye now.","words":[{"word":"Bye","start":3.0,"end":3.5,"speaker":"SPEAKER_02"},{"word":"now.","start":3.5,"end":4.5,"speaker":"SPEAKER_02"}]}
            ]}
            """;

        var transcript = await Transcriber().TranscribeAsync(new TranscriptionInput(wav, null, 10), null, CancellationToken.None);

        Assert.Equal("de", transcript.Language);
        Assert.Equal("Hi there. Bye now.", transcript.Text);
        Assert.Equal(
            [new TranscriptSegment(0.5, 2.0, "Hi there.", "1"), new TranscriptSegment(3.0, 4.5, "Bye now.", null)],
            transcript.Segments.Select(s => s with { Words = null }));
        Assert.Equal(["Hi", "there."], transcript.Segments[0].Words!.Select(w => w.Text));
        Assert.Equal([3.0, 3.5], transcript.Segments[1].Words!.Select(w => w.Start));
    }

    [Fact]
    public async Task Words_without_segments_become_segments_per_speaker_turn()
    {
        var wav = await _audio.WavAsync(10);
        _server.TranscriptionResponder = _ => """
            {"text":"a b c","words":[{"word":"a","start":0,"end":1,"speaker":"x"},{"word":"b","start":1,"end":2,"speaker":"x"},{"word":"c","start":2,"end":3,"speaker":"y"}]}
            """;

        var transcript = await Transcriber().TranscribeAsync(new TranscriptionInput(wav, null, 10), null, CancellationToken.None);

        Assert.Equal(["x", "y"], transcript.Segments.Select(s => s.Speaker));
        Assert.Equal(["a b", "c"], transcript.Segments.Select(s => s.Text));
        Assert.Equal("und", transcript.Language);
    }

    [Fact]
    public async Task Text_only_json_gives_one_segment_per_upload()
    {
        var wav = await _audio.WavAsync(10);
        var options = Options();
        options.Model = "gpt-4o-transcribe";
        options.ResponseFormat = "json";

        var transcript = await Transcriber(options).TranscribeAsync(new TranscriptionInput(wav, null, 10), null, CancellationToken.None);

        var request = Assert.Single(_server.RequestsTo(TranscriptionsPath));
        Assert.Equal("json", request.FormValue("response_format"));
        Assert.Empty(request.FormValues("timestamp_granularities[]"));
        var segment = Assert.Single(transcript.Segments);
        Assert.Equal((0.0, 10.0), (segment.Start, segment.End));
        Assert.Equal(transcript.Text, segment.Text);
    }

    [Fact]
    public async Task Diarized_json_format_keeps_the_speakers_and_sends_no_granularities()
    {
        var wav = await _audio.WavAsync(10);
        var options = Options();
        options.Model = "gpt-4o-transcribe-diarize";
        options.ResponseFormat = "diarized_json";

        var transcript = await Transcriber(options).TranscribeAsync(new TranscriptionInput(wav, null, 10), null, CancellationToken.None);

        var request = Assert.Single(_server.RequestsTo(TranscriptionsPath));
        Assert.Equal("diarized_json", request.FormValue("response_format"));
        Assert.Empty(request.FormValues("timestamp_granularities[]"));
        Assert.Equal("auto", request.FormValue("chunking_strategy"));
        Assert.Equal(["A", "B"], transcript.Segments.Select(s => s.Speaker));
        Assert.Equal("gpt-4o-transcribe-diarize", transcript.Model);
    }

    [Fact]
    public async Task Cancelling_a_chunked_transcription_stops_it_and_deletes_the_chunk_files()
    {
        var wav = await _audio.WavAsync(70);
        _server.MaxUploadBytes = 200_000;
        _server.DelayNext(10, TimeSpan.FromSeconds(60));
        var options = Options();
        options.MaxUploadBytes = 200_000;
        options.ChunkSeconds = 20;
        using var cancellation = new CancellationTokenSource();
        var progress = new RecordingProgress();

        var task = Transcriber(options).TranscribeAsync(new TranscriptionInput(wav, null, 70), progress, cancellation.Token);
        await WaitUntilAsync(() => _server.RequestsTo(TranscriptionsPath).Count > 0);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_audio.ChunkDirectory));
    }

    [Theory]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(400, false)]
    [InlineData(413, false)]
    public async Task Http_failures_become_step_exceptions(int status, bool transient)
    {
        var wav = await _audio.WavAsync(3);
        _server.FailNext(1, status, TranscriptionsPath);

        var error = await Assert.ThrowsAsync<StepException>(() => Transcriber().TranscribeAsync(new TranscriptionInput(wav, null, 3), null, CancellationToken.None));

        Assert.Equal(transient, error.Transient);
        Assert.Contains($"HTTP {status}", error.Message);
        Assert.Single(_server.RequestsTo(TranscriptionsPath));
        Assert.DoesNotContain(_server.ApiKey, error.ToString());
    }

    [Fact]
    public async Task A_failing_chunk_fails_the_whole_transcription_and_leaves_no_files()
    {
        var wav = await _audio.WavAsync(70);
        _server.MaxUploadBytes = 200_000;
        _server.FailNext(1, 500, TranscriptionsPath);
        var options = Options();
        options.MaxUploadBytes = 200_000;
        options.ChunkSeconds = 20;
        options.Parallelism = 1;

        var error = await Assert.ThrowsAsync<StepException>(() => Transcriber(options).TranscribeAsync(new TranscriptionInput(wav, null, 70), null, CancellationToken.None));

        Assert.True(error.Transient);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_audio.ChunkDirectory));
    }

    [Fact]
    public async Task An_undecodable_file_is_a_permanent_failure()
    {
        var bogus = Path.Combine(_audio.Directory, "bogus.wav");
        await File.WriteAllTextAsync(bogus, "this is not audio");

        var error = await Assert.ThrowsAsync<StepException>(() => Transcriber().TranscribeAsync(new TranscriptionInput(bogus, null, 3), null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Contains("HTTP 400", error.Message);
    }

    [Fact]
    public async Task Without_an_api_key_the_transcriber_is_not_configured()
    {
        var wav = await _audio.WavAsync(1);
        var transcriber = new OpenAiTranscriber(new OpenAiOptions { Endpoint = _server.Endpoint }, Options());

        Assert.False(transcriber.IsConfigured);
        var error = await Assert.ThrowsAsync<StepException>(() => transcriber.TranscribeAsync(new TranscriptionInput(wav, null, 1), null, CancellationToken.None));
        Assert.False(error.Transient);
        Assert.Contains("OpenAI:ApiKey", error.Message);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Chunks_are_reported_as_parts_in_time_order_and_a_later_attempt_sends_only_the_rest()
    {
        const long maxUpload = 200_000;
        var wav = await _audio.WavAsync(70);
        _server.MaxUploadBytes = maxUpload;
        var options = Options();
        options.MaxUploadBytes = maxUpload;
        options.ChunkSeconds = 20;
        options.Parallelism = 4;
        // The first chunk answers last: its part still comes first.
        _server.DelayNext(1, TimeSpan.FromSeconds(1), TranscriptionsPath);
        var parts = new List<TranscribedPart>();

        var transcript = await Transcriber(options).TranscribeAsync(new TranscriptionInput(wav, null, 70) { Parts = new PartLog(parts) }, null, CancellationToken.None);

        Assert.Equal([0, 1, 2, 3], parts.Select(p => p.Index));
        Assert.Equal([0.0, 20, 40, 60], parts.Select(p => p.Start));
        Assert.Equal(70, parts[^1].End);
        Assert.Equal(transcript.Segments.Select(s => (s.Start, s.Text)), parts.SelectMany(p => p.Segments).Select(s => (s.Start, s.Text)));

        // A second attempt given the first two parts sends only the last two chunks and ends with the same transcript.
        var before = _server.RequestsTo(TranscriptionsPath).Count;
        var rest = new List<TranscribedPart>();
        var resumed = await Transcriber(options).TranscribeAsync(
            new TranscriptionInput(wav, null, 70) { Parts = new PartLog(rest), Resume = new TranscriptionResume(parts[0].Plan, parts.Take(2).ToList()) }, null,
            CancellationToken.None);
        Assert.Equal(2, _server.RequestsTo(TranscriptionsPath).Count - before);
        Assert.Equal([2, 3], rest.Select(p => p.Index));
        Assert.Equal(transcript.Text, resumed.Text);
        Assert.Equal(transcript.Segments.Select(s => (s.Start, s.Text)), resumed.Segments.Select(s => (s.Start, s.Text)));
    }

    private OpenAiTranscriptionOptions Options() => new() { TempDirectory = _audio.ChunkDirectory };

    private OpenAiTranscriber Transcriber(OpenAiTranscriptionOptions? options = null) =>
        new(new OpenAiOptions { Endpoint = _server.Endpoint, ApiKey = _server.ApiKey }, options ?? Options());

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }

    private sealed class RecordingProgress : IProgress<double>
    {
        private readonly List<double> _values = [];

        public IReadOnlyList<double> Values
        {
            get
            {
                lock (_values)
                {
                    return _values.ToList();
                }
            }
        }

        public void Report(double value)
        {
            lock (_values)
            {
                _values.Add(value);
            }
        }
    }
}
