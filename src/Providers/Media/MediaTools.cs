using System.ComponentModel;
using System.Globalization;
using FFMpegCore;
using FFMpegCore.Exceptions;
using Instances.Exceptions;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Media;

/// <summary>Paths of the media programs (section "Media").</summary>
public sealed class MediaOptions
{
    /// <summary>
    /// "ffmpeg" (found on PATH), a path to a program named ffmpeg (FFMpegCore runs "ffmpeg" from that path's folder),
    /// or a folder holding it.
    /// </summary>
    public string FfmpegPath { get; set; } = "ffmpeg";

    /// <summary>"ffprobe" (found on PATH), a path to a program named ffprobe, or a folder holding it.</summary>
    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>Where steps put their temporary files (one folder per work item, removed when the step ends).</summary>
    public string TempDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "mediaactors");

    /// <summary>Bit rate of the compressed audio copy for providers with an upload limit.</summary>
    public string CompressedBitrate { get; set; } = "48k";

    /// <summary>
    /// How long the media step's WAV waits on its silo for the transcribing step (<see cref="HandOver"/>), which then
    /// need not download it; a step that runs on another silo downloads it.
    /// </summary>
    public TimeSpan HandOverMaxAge { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The most the hand-over keeps on a silo's disk at once (bytes); 0 turns it off.</summary>
    public long HandOverMaxBytes { get; set; } = 2L * 1024 * 1024 * 1024;
}

/// <summary>What ffprobe says about a media file.</summary>
public sealed record MediaInfo(double DurationSeconds, string? FormatName, string? VideoCodec, int? Width, int? Height, string? AudioCodec, int? AudioSampleRate, int? AudioChannels)
{
    public bool HasAudio => AudioCodec is not null;

    public bool HasVideo => VideoCodec is not null;
}

/// <summary>
/// Runs ffprobe and ffmpeg through FFMpegCore (which starts them as processes), streaming from and to files so memory
/// stays bounded whatever the size.
/// </summary>
/// <remarks>
/// FFMpegCore builds the command lines, runs the programs, parses ffprobe's JSON and kills ffmpeg on cancellation.
/// We keep: the MediaInfo mapping (from FFMpegCore's raw ffprobe model, because its parsed durations are cut to
/// milliseconds and its "primary" streams prefer the default disposition, cover art included); ffmpeg's
/// <c>-progress pipe:1</c> report (its own progress reads <c>-stats</c> lines from stderr, which would then be mixed into
/// the error text we show); and our error texts (its exception messages carry all of stderr, which can hold the input
/// URL with its SAS signature, so they are never passed on).
/// </remarks>
public sealed class MediaTools(IOptions<MediaOptions> options)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan FfmpegTimeout = TimeSpan.FromHours(3);

    // Always given before the input: no banner, no reading of stdin, only errors on stderr, progress on stdout.
    private const string CommonOptions = "-hide_banner -nostdin -v error -progress pipe:1";

    private readonly MediaOptions _options = options.Value;

    /// <summary>Reads a file's (or URL's) metadata. Anything ffprobe cannot read is not media: a permanent failure.</summary>
    public async Task<MediaInfo> ProbeAsync(string pathOrUrl, CancellationToken cancellationToken)
    {
        var ffOptions = FfOptions(_options.FfprobePath, "ffprobe", nameof(MediaOptions.FfprobePath));
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(ProbeTimeout);
        IMediaAnalysis analysis;
        try
        {
            // A URL goes through the Uri overload: the string one insists on an existing local file.
            analysis = Uri.TryCreate(pathOrUrl, UriKind.Absolute, out var uri) && !uri.IsFile
                ? await FFProbe.AnalyseAsync(uri, ffOptions, cancellationToken: timeoutSource.Token)
                : await FFProbe.AnalyseAsync(Quotable(pathOrUrl), ffOptions, cancellationToken: timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw StepException.Retryable($"{Path.GetFileName(_options.FfprobePath)} did not finish within {ProbeTimeout}.");
        }
        catch (FFProbeProcessException e)
        {
            // Not e.Message nor e as the inner exception: both hold all of stderr, where ffprobe echoes the URL.
            throw StepException.Permanent($"The file is not a readable media file ({FirstLine(e.StandardError)}).");
        }
        catch (FileNotFoundException)
        {
            // FFMpegCore checks a local path itself; this is what ffprobe would have said.
            throw StepException.Permanent($"The file is not a readable media file ({FirstLine([$"{pathOrUrl}: No such file or directory"])}).");
        }
        catch (FormatNullException)
        {
            throw StepException.Permanent("The file is not a readable media file (ffprobe reported no format).");
        }
        catch (Exception e) when (e is FFProbeException or InstanceFileNotFoundException or Win32Exception)
        {
            throw NotStarted(_options.FfprobePath, e);
        }

        var raw = analysis.Raw;
        var video = raw.Streams.FirstOrDefault(x => x.CodecType == "video" && !IsAttachedPicture(x));
        var audio = raw.Streams.FirstOrDefault(x => x.CodecType == "audio");
        var duration = Seconds(raw.Format?.Duration) ?? Seconds(audio?.Duration) ?? Seconds(video?.Duration) ?? 0;
        if (video is null && audio is null)
        {
            throw StepException.Permanent("The file has neither a video nor an audio stream: it is not a media file.");
        }

        return new MediaInfo(
            duration,
            raw.Format?.FormatName,
            video?.CodecName,
            video?.Width, video?.Height,
            audio?.CodecName,
            int.TryParse(audio?.SampleRate, NumberStyles.Integer, CultureInfo.InvariantCulture, out var rate) ? rate : null,
            audio?.Channels);
    }

    /// <summary>The 16 kHz mono s16le WAV extract the transcribers read.</summary>
    public Task ExtractWavAsync(string input, string output, double duration, IProgress<double>? progress, CancellationToken cancellationToken) =>
        FfmpegAsync(WavArguments(input, output), duration, progress, cancellationToken);

    /// <summary>A small mono MP3 copy for providers with an upload limit.</summary>
    public Task CompressAudioAsync(string input, string output, double duration, IProgress<double>? progress, CancellationToken cancellationToken) =>
        FfmpegAsync(Mp3Arguments(input, output, _options.CompressedBitrate), duration, progress, cancellationToken);

    /// <summary>A JPEG thumbnail, 320 px wide, from 10% into the video.</summary>
    public Task ThumbnailAsync(string input, string output, double duration, CancellationToken cancellationToken) =>
        FfmpegAsync(ThumbnailArguments(input, output, duration), 0, null, cancellationToken);

    // The codecs and formats are given as text: FFMpegCore's typed codec and format values are looked up by running
    // "ffmpeg -codecs"/"-formats" with its global options, not ours. verifyExists: false leaves a missing input to ffmpeg's
    // own message, as before.
    internal static FFMpegArgumentProcessor WavArguments(string input, string output) =>
        FFMpegArguments.FromFileInput(Quotable(input), verifyExists: false, o => o.WithCustomArgument(CommonOptions))
            .OutputToFile(Quotable(output), overwrite: true, o => o
                .DisableVideo().WithAudioChannels(1).WithAudioSamplingRate(16000).WithCustomArgument("-c:a pcm_s16le -f wav"));

    internal static FFMpegArgumentProcessor Mp3Arguments(string input, string output, string bitrate) =>
        FFMpegArguments.FromFileInput(Quotable(input), verifyExists: false, o => o.WithCustomArgument(CommonOptions))
            .OutputToFile(Quotable(output), overwrite: true, o => o
                .DisableVideo().WithAudioChannels(1).WithAudioSamplingRate(16000)
                .WithCustomArgument($"-c:a libmp3lame -b:a \"{Quotable(bitrate)}\" -f mp3"));

    internal static FFMpegArgumentProcessor ThumbnailArguments(string input, string output, double duration) =>
        FFMpegArguments.FromFileInput(Quotable(input), verifyExists: false, o => o
                .WithCustomArgument(CommonOptions)
                // -ss to the millisecond, as before (FFMpegCore writes hh:mm:ss.fff).
                .WithStartTime(TimeSpan.FromMilliseconds(Math.Round(duration * 100, MidpointRounding.AwayFromZero))))
            .OutputToFile(Quotable(output), overwrite: true, o => o
                .WithFrameCount(1).WithVideoFilters(f => f.Scale(320, -2)).WithVideoQualityScale(4).WithCustomArgument("-f image2"));

    /// <summary>Runs ffmpeg, reporting progress from its -progress output against the known duration.</summary>
    private async Task FfmpegAsync(FFMpegArgumentProcessor processor, double duration, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var ffOptions = FfOptions(_options.FfmpegPath, "ffmpeg", nameof(MediaOptions.FfmpegPath));
        if (progress is not null && duration > 0)
        {
            processor.NotifyOnStandardOutput(line =>
            {
                if (line.StartsWith("out_time_us=", StringComparison.Ordinal) && long.TryParse(line.AsSpan("out_time_us=".Length), out var microseconds))
                {
                    progress.Report(Math.Clamp(microseconds / 1e6 / duration, 0, 1));
                }
            });
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(FfmpegTimeout);
        try
        {
            // On cancellation FFMpegCore writes "q" to ffmpeg's stdin (ignored: -nostdin) and kills the process after the
            // grace period: none, since the output is thrown away. It returns once the process has exited. The token is
            // not also passed to ProcessAsynchronously, which would register it again with a 5 s grace.
            await processor.CancellableThrough(timeoutSource.Token, TimeSpan.Zero).ProcessAsynchronously(throwOnError: true, ffOptions);
        }
        catch (OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw StepException.Retryable($"{Path.GetFileName(_options.FfmpegPath)} did not finish within {FfmpegTimeout}.");
        }
        catch (FFMpegProcessException e)
        {
            // Not e.Message nor e as the inner exception: both hold all of stderr.
            throw StepException.Permanent($"ffmpeg could not process the media ({FirstLine(e.Result.StandardError)}).");
        }
        catch (Exception e) when (e is FFMpegException or InstanceFileNotFoundException or Win32Exception)
        {
            throw NotStarted(_options.FfmpegPath, e);
        }
    }

    /// <summary>
    /// FFMpegCore runs "&lt;BinaryFolder&gt;/ffmpeg" (or ffprobe) when that file exists and the bare name otherwise, so a
    /// setting maps to a folder: the default bare name keeps the folder empty (the OS looks the program up on PATH, as
    /// before); a path to a program of that name gives its folder; a folder is taken as it is. Another program name
    /// cannot be honoured, and a missing file fails here rather than silently running the one on PATH.
    /// </summary>
    internal FFOptions FfOptions(string configured, string program, string setting)
    {
        string folder;
        if (configured == program)
        {
            folder = "";
        }
        else if (Directory.Exists(configured))
        {
            folder = configured;
        }
        else if (Path.GetFileNameWithoutExtension(configured) != program || Path.GetDirectoryName(configured) is not { Length: > 0 } directory)
        {
            throw StepException.Permanent(
                $"Media:{setting} is '{configured}', but FFMpegCore can only run a program named {program}: set it to {program} (on PATH), to the path of {program}, or to the folder holding it.");
        }
        else if (!File.Exists(configured))
        {
            throw NotStarted(configured, null);
        }
        else
        {
            folder = directory;
        }

        return new FFOptions
        {
            BinaryFolder = folder,
            // Not used by the operations above (FFMpegCore writes temporary files only for concat lists, metadata and
            // image sequences); set so that any future use stays under our temporary folder.
            TemporaryFilesFolder = Path.Combine(_options.TempDirectory, "ffmpegcore"),
        };
    }

    private static StepException NotStarted(string program, Exception? inner) =>
        StepException.Permanent($"The program '{program}' could not be started; is ffmpeg installed (apt-get install ffmpeg)?", inner);

    /// <summary>
    /// FFMpegCore puts paths inside double quotes in one command-line string, so a path cannot hold a double quote
    /// (nor end with a backslash, which would escape the closing one). Ours never do (GUID folders, sanitised names).
    /// </summary>
    internal static string Quotable(string value) =>
        value.Contains('"') || value.EndsWith('\\')
            ? throw new ArgumentException($"FFMpegCore cannot pass '{value}' to ffmpeg: it holds a double quote or ends with a backslash.", nameof(value))
            : value;

    private static bool IsAttachedPicture(FFProbeStream stream) =>
        stream.Disposition is { } d && d.TryGetValue("attached_pic", out var a) && a == 1;

    /// <summary>FFMpegCore asks ffprobe for -sexagesimal times (h:mm:ss.micro); its own parsing keeps only milliseconds.</summary>
    internal static double? Seconds(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var parts = value.Split(':');
        double total = 0;
        foreach (var part in parts)
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return null;
            }

            total = total * 60 + number;
        }

        return parts.Length <= 3 ? total : null;
    }

    private static string FirstLine(IEnumerable<string> lines)
    {
        var line = lines.Select(x => x.Trim()).FirstOrDefault(x => x.Length > 0) ?? "no details";
        // ffprobe may echo the input URL, which can carry a SAS signature.
        var query = line.IndexOf('?');
        return query >= 0 ? line[..query] + "?…" : line;
    }
}
