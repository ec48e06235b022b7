using System.Collections.Concurrent;
using System.Diagnostics;
using MediaActors.Providers.Media;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Tests.Media;

/// <summary>MediaTools (FFMpegCore over the real ffprobe and ffmpeg) on inputs made by ffmpeg.</summary>
public sealed class MediaToolsTests(MediaFiles files) : IClassFixture<MediaFiles>
{
    private MediaTools Tools(Action<MediaOptions>? configure = null)
    {
        var options = new MediaOptions { TempDirectory = files.File("tmp") };
        configure?.Invoke(options);
        return new MediaTools(Options.Create(options));
    }

    private string Output(string extension) => files.File($"{Guid.NewGuid():N}{extension}");

    [Fact]
    public async Task Probe_reads_a_video_with_audio()
    {
        var info = await Tools().ProbeAsync(files.Video, CancellationToken.None);

        Assert.True(info.HasVideo);
        Assert.True(info.HasAudio);
        Assert.Equal("h264", info.VideoCodec);
        Assert.Equal(320, info.Width);
        Assert.Equal(240, info.Height);
        Assert.Equal("aac", info.AudioCodec);
        Assert.Equal(44100, info.AudioSampleRate);
        Assert.Equal(1, info.AudioChannels);
        Assert.Contains("mp4", info.FormatName);
        Assert.InRange(info.DurationSeconds, MediaFiles.Seconds - 0.1, MediaFiles.Seconds + 0.1);
    }

    [Fact]
    public async Task Probe_reads_audio_only()
    {
        var info = await Tools().ProbeAsync(files.Audio, CancellationToken.None);

        Assert.False(info.HasVideo);
        Assert.Null(info.Width);
        Assert.True(info.HasAudio);
        Assert.Equal("aac", info.AudioCodec);
        Assert.InRange(info.DurationSeconds, MediaFiles.Seconds - 0.1, MediaFiles.Seconds + 0.1);
    }

    [Fact]
    public async Task Probe_does_not_take_cover_art_for_video()
    {
        var info = await Tools().ProbeAsync(files.CoverArtMp3, CancellationToken.None);

        Assert.False(info.HasVideo);
        Assert.Null(info.VideoCodec);
        Assert.Null(info.Width);
        Assert.True(info.HasAudio);
        Assert.Equal("mp3", info.AudioCodec);
        Assert.Equal("mp3", info.FormatName);
    }

    [Fact]
    public async Task Probe_keeps_the_duration_to_the_microsecond()
    {
        // ffprobe -sexagesimal says 0:00:01.234563; FFMpegCore's own TimeSpan would cut it to 1.234.
        var info = await Tools().ProbeAsync(files.OddLength, CancellationToken.None);

        Assert.Equal(1.234563, info.DurationSeconds, 6);
        Assert.Equal(1.5, MediaTools.Seconds("0:00:01.500000"));
        Assert.Equal(3723.123456, MediaTools.Seconds("1:02:03.123456")!.Value, 6);
        Assert.Equal(12.5, MediaTools.Seconds("12.5"));
        Assert.Null(MediaTools.Seconds("N/A"));
        Assert.Null(MediaTools.Seconds(null));
    }

    [Fact]
    public async Task Probe_of_a_file_that_is_not_media_is_permanent()
    {
        var error = await Assert.ThrowsAsync<StepException>(() => Tools().ProbeAsync(files.NotMedia, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.StartsWith("The file is not a readable media file (", error.Message);
        Assert.Contains("Invalid data found when processing input", error.Message);
        Assert.Null(error.InnerException);
    }

    [Fact]
    public async Task Probe_of_a_missing_file_is_permanent()
    {
        var missing = files.File("missing.mp4");
        var error = await Assert.ThrowsAsync<StepException>(() => Tools().ProbeAsync(missing, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Equal($"The file is not a readable media file ({missing}: No such file or directory).", error.Message);
    }

    [Fact]
    public async Task Probe_reads_a_url_with_its_query_and_never_shows_the_query()
    {
        await using var server = await FileServer.StartAsync(files.Audio);
        const string query = "sv=2025-01-05&se=2030-01-01T00%3A00%3A00Z&sp=r&sig=SECRETsig%2Babc%3D";

        var info = await Tools().ProbeAsync($"{server.BaseUri}media/audio.m4a?{query}", CancellationToken.None);
        Assert.Equal("aac", info.AudioCodec);
        Assert.Contains($"/media/audio.m4a?{query}", server.Targets);

        var error = await Assert.ThrowsAsync<StepException>(() => Tools().ProbeAsync($"{server.BaseUri}missing.m4a?{query}", CancellationToken.None));
        Assert.False(error.Transient);
        Assert.StartsWith("The file is not a readable media file (", error.Message);
        Assert.Contains("?…", error.Message);
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            Assert.DoesNotContain("SECRET", e.Message);
            Assert.DoesNotContain("sig=", e.Message);
        }
    }

    [Fact]
    public async Task Extracts_a_16_kHz_mono_s16le_wav_of_the_right_length_with_progress()
    {
        var wav = Output(".wav");
        var progress = new Recorder();

        await Tools().ExtractWavAsync(files.Video, wav, MediaFiles.Seconds, progress, CancellationToken.None);

        var info = await Tools().ProbeAsync(wav, CancellationToken.None);
        Assert.Equal("wav", info.FormatName);
        Assert.Equal("pcm_s16le", info.AudioCodec);
        Assert.Equal(16000, info.AudioSampleRate);
        Assert.Equal(1, info.AudioChannels);
        Assert.False(info.HasVideo);
        Assert.InRange(info.DurationSeconds, MediaFiles.Seconds - 0.1, MediaFiles.Seconds + 0.1);
        // The RIFF header: 1 channel, 16000 Hz, 16 bits.
        var header = (await File.ReadAllBytesAsync(wav))[..44];
        Assert.Equal(1, BitConverter.ToInt16(header, 22));
        Assert.Equal(16000, BitConverter.ToInt32(header, 24));
        Assert.Equal(16, BitConverter.ToInt16(header, 34));

        var values = progress.Values.ToArray();
        Assert.NotEmpty(values);
        Assert.All(values, v => Assert.InRange(v, 0, 1));
        Assert.InRange(values[^1], 0.98, 1);
    }

    [Fact]
    public async Task Progress_is_reported_while_a_long_input_is_encoded()
    {
        var mp3 = Output(".mp3");
        var progress = new Recorder();

        await Tools().CompressAudioAsync(files.Long, mp3, 1800, progress, CancellationToken.None);

        var values = progress.Values.ToArray();
        Assert.True(values.Length >= 2, $"{values.Length} progress reports");
        Assert.Equal(values.Order(), values);
        Assert.InRange(values[^1], 0.98, 1);
    }

    [Fact]
    public async Task Compresses_to_a_mono_16_kHz_mp3_at_the_configured_bitrate()
    {
        var mp3 = Output(".mp3");

        await Tools(o => o.CompressedBitrate = "32k").CompressAudioAsync(files.Video, mp3, MediaFiles.Seconds, null, CancellationToken.None);

        var info = await Tools().ProbeAsync(mp3, CancellationToken.None);
        Assert.Equal("mp3", info.FormatName);
        Assert.Equal("mp3", info.AudioCodec);
        Assert.Equal(16000, info.AudioSampleRate);
        Assert.Equal(1, info.AudioChannels);
        Assert.False(info.HasVideo);
        Assert.InRange(info.DurationSeconds, MediaFiles.Seconds - 0.2, MediaFiles.Seconds + 0.2);
        // 32 kbit/s for 5 s is 20 kB (plus headers).
        Assert.InRange(new FileInfo(mp3).Length, 15_000, 25_000);
    }

    [Fact]
    public async Task Makes_a_320_px_wide_jpeg_thumbnail()
    {
        var jpeg = Output(".jpg");

        await Tools().ThumbnailAsync(files.Video, jpeg, MediaFiles.Seconds, CancellationToken.None);

        var bytes = await File.ReadAllBytesAsync(jpeg);
        Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF }, bytes[..3]);
        var info = await Tools().ProbeAsync(jpeg, CancellationToken.None);
        Assert.Equal("mjpeg", info.VideoCodec);
        Assert.Equal(320, info.Width);
        Assert.Equal(240, info.Height);
    }

    [Fact]
    public void The_ffmpeg_arguments_are_the_same_as_before()
    {
        Assert.Equal("-hide_banner -nostdin -v error -progress pipe:1 -i \"in.mp4\" -vn -ac 1 -ar 16000 -c:a pcm_s16le -f wav \"out.wav\" -y",
            MediaTools.WavArguments("in.mp4", "out.wav").Arguments);
        Assert.Equal("-hide_banner -nostdin -v error -progress pipe:1 -i \"in.mp4\" -vn -ac 1 -ar 16000 -c:a libmp3lame -b:a \"48k\" -f mp3 \"out.mp3\" -y",
            MediaTools.Mp3Arguments("in.mp4", "out.mp3", "48k").Arguments);
        Assert.Equal("-hide_banner -nostdin -v error -progress pipe:1 -ss 00:00:12.346 -i \"in.mp4\" -frames:v 1 -vf \"scale=320:-2\" -q:v 4 -f image2 \"out.jpg\" -y",
            MediaTools.ThumbnailArguments("in.mp4", "out.jpg", 123.4555).Arguments);
        Assert.Throws<ArgumentException>(() => MediaTools.WavArguments("in\".mp4", "out.wav"));
    }

    [Fact]
    public async Task An_ffmpeg_failure_is_permanent_with_the_first_line_of_stderr()
    {
        var error = await Assert.ThrowsAsync<StepException>(() =>
            Tools().ExtractWavAsync(files.NotMedia, Output(".wav"), MediaFiles.Seconds, null, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.StartsWith("ffmpeg could not process the media (", error.Message);
        Assert.Contains("Invalid data found when processing input", error.Message);
        Assert.Null(error.InnerException);
    }

    [Fact]
    public async Task Cancelling_stops_ffmpeg_at_once()
    {
        var mp3 = Output(".mp3");
        using var cancellation = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new Recorder(v =>
        {
            if (v > 0.01)
            {
                started.TrySetResult();
            }
        });

        var run = Tools().CompressAudioAsync(files.Long, mp3, 1800, progress, cancellation.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(FfmpegWriting(mp3), "ffmpeg is running");
        var clock = Stopwatch.StartNew();
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"stopped after {clock.Elapsed}");
        Assert.True(progress.Values.Last() < 0.9, "cancelled mid-way");
        Assert.False(FfmpegWriting(mp3), "no ffmpeg left");
    }

    [Fact]
    public async Task A_cancelled_token_does_not_start_ffmpeg()
    {
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Tools().ExtractWavAsync(files.Video, Output(".wav"), MediaFiles.Seconds, null, new CancellationToken(true)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Tools().ProbeAsync(files.Video, new CancellationToken(true)));
    }

    [Fact]
    public async Task Program_settings_map_to_ffmpegcore_folders()
    {
        var ffmpeg = Which("ffmpeg");
        var ffprobe = Which("ffprobe");

        // A path to the program, or its folder.
        await Tools(o => (o.FfmpegPath, o.FfprobePath) = (ffmpeg, ffprobe)).ExtractWavAsync(files.Audio, Output(".wav"), MediaFiles.Seconds, null, CancellationToken.None);
        Assert.True((await Tools(o => o.FfprobePath = Path.GetDirectoryName(ffprobe)!).ProbeAsync(files.Audio, CancellationToken.None)).HasAudio);

        // A missing program fails instead of falling back to the one on PATH.
        var missing = await Assert.ThrowsAsync<StepException>(() =>
            Tools(o => o.FfprobePath = "/nonexistent/ffprobe").ProbeAsync(files.Audio, CancellationToken.None));
        Assert.False(missing.Transient);
        Assert.Equal("The program '/nonexistent/ffprobe' could not be started; is ffmpeg installed (apt-get install ffmpeg)?", missing.Message);
        var missingFfmpeg = await Assert.ThrowsAsync<StepException>(() =>
            Tools(o => o.FfmpegPath = "/nonexistent/ffmpeg").ExtractWavAsync(files.Audio, Output(".wav"), MediaFiles.Seconds, null, CancellationToken.None));
        Assert.StartsWith("The program '/nonexistent/ffmpeg' could not be started", missingFfmpeg.Message);

        // Another program name cannot be run by FFMpegCore.
        var renamed = await Assert.ThrowsAsync<StepException>(() =>
            Tools(o => o.FfmpegPath = "ffmpeg6").ExtractWavAsync(files.Audio, Output(".wav"), MediaFiles.Seconds, null, CancellationToken.None));
        Assert.False(renamed.Transient);
        Assert.Contains("Media:FfmpegPath is 'ffmpeg6'", renamed.Message);
    }

    private static string Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, program)).First(File.Exists);

    /// <summary>Whether a process has <paramref name="output"/> on its command line (only ffmpeg gets our output paths).</summary>
    private static bool FfmpegWriting(string output)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(directory), out _) && File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(output, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return false;
    }

    /// <summary>Records progress synchronously (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class Recorder(Action<double>? onReport = null) : IProgress<double>
    {
        public ConcurrentQueue<double> Values { get; } = new();

        public void Report(double value)
        {
            Values.Enqueue(value);
            onReport?.Invoke(value);
        }
    }

    /// <summary>Kestrel on 127.0.0.1 serving one file (with ranges) under /media/, 404 elsewhere; records request targets.</summary>
    private sealed class FileServer(WebApplication app) : IAsyncDisposable
    {
        private readonly ConcurrentQueue<string> _targets = new();

        public Uri BaseUri { get; private set; } = null!;

        public IReadOnlyCollection<string> Targets => _targets;

        public static async Task<FileServer> StartAsync(string file)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new FileServer(app);
            app.Use(async (context, next) =>
            {
                server._targets.Enqueue(context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "");
                await next(context);
            });
            app.MapGet("/media/{name}", (string name) => Results.File(file, "audio/mp4", enableRangeProcessing: true));
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            server.BaseUri = new Uri(address.TrimEnd('/') + "/");
            return server;
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}
