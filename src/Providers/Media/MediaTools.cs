using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Media;

/// <summary>Paths of the media programs (section "Media").</summary>
public sealed class MediaOptions
{
    public string FfmpegPath { get; set; } = "ffmpeg";

    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>Where steps put their temporary files (one folder per work item, removed when the step ends).</summary>
    public string TempDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "mediaactors");

    /// <summary>Bit rate of the compressed audio copy for providers with an upload limit.</summary>
    public string CompressedBitrate { get; set; } = "48k";
}

/// <summary>What ffprobe says about a media file.</summary>
public sealed record MediaInfo(double DurationSeconds, string? FormatName, string? VideoCodec, int? Width, int? Height, string? AudioCodec, int? AudioSampleRate, int? AudioChannels)
{
    public bool HasAudio => AudioCodec is not null;

    public bool HasVideo => VideoCodec is not null;
}

/// <summary>Runs ffprobe and ffmpeg as programs, streaming from and to files so memory stays bounded whatever the size.</summary>
public sealed class MediaTools(IOptions<MediaOptions> options)
{
    private readonly MediaOptions _options = options.Value;

    /// <summary>Reads a file's (or URL's) metadata. Anything ffprobe cannot read is not media: a permanent failure.</summary>
    public async Task<MediaInfo> ProbeAsync(string pathOrUrl, CancellationToken cancellationToken)
    {
        var result = await RunAsync(_options.FfprobePath,
            ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", pathOrUrl], null, TimeSpan.FromMinutes(2), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw StepException.Permanent($"The file is not a readable media file ({FirstLine(result.Error)}).");
        }

        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        var streams = root.TryGetProperty("streams", out var s) ? s.EnumerateArray().ToList() : [];
        var video = streams.FirstOrDefault(x => Str(x, "codec_type") == "video" && !IsAttachedPicture(x));
        var audio = streams.FirstOrDefault(x => Str(x, "codec_type") == "audio");
        var format = root.TryGetProperty("format", out var f) ? f : default;
        var duration = Double(format, "duration") ?? Double(audio, "duration") ?? Double(video, "duration") ?? 0;
        if (video.ValueKind == JsonValueKind.Undefined && audio.ValueKind == JsonValueKind.Undefined)
        {
            throw StepException.Permanent("The file has neither a video nor an audio stream: it is not a media file.");
        }

        return new MediaInfo(
            duration,
            format.ValueKind == JsonValueKind.Object ? Str(format, "format_name") : null,
            video.ValueKind == JsonValueKind.Object ? Str(video, "codec_name") : null,
            Int(video, "width"), Int(video, "height"),
            audio.ValueKind == JsonValueKind.Object ? Str(audio, "codec_name") : null,
            Int(audio, "sample_rate"), Int(audio, "channels"));
    }

    /// <summary>The 16 kHz mono s16le WAV extract the transcribers read.</summary>
    public Task ExtractWavAsync(string input, string output, double duration, IProgress<double>? progress, CancellationToken cancellationToken) =>
        FfmpegAsync(["-i", input, "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav", output], duration, progress, cancellationToken);

    /// <summary>A small mono MP3 copy for providers with an upload limit.</summary>
    public Task CompressAudioAsync(string input, string output, double duration, IProgress<double>? progress, CancellationToken cancellationToken) =>
        FfmpegAsync(["-i", input, "-vn", "-ac", "1", "-ar", "16000", "-c:a", "libmp3lame", "-b:a", _options.CompressedBitrate, "-f", "mp3", output], duration, progress, cancellationToken);

    /// <summary>A JPEG thumbnail, 320 px wide, from 10% into the video.</summary>
    public Task ThumbnailAsync(string input, string output, double duration, CancellationToken cancellationToken) =>
        FfmpegAsync(["-ss", (duration * 0.1).ToString("0.###", CultureInfo.InvariantCulture), "-i", input, "-frames:v", "1", "-vf", "scale=320:-2", "-q:v", "4", "-f", "image2", output], 0, null, cancellationToken);

    /// <summary>Runs ffmpeg, reporting progress from its -progress output against the known duration.</summary>
    public async Task FfmpegAsync(IReadOnlyList<string> arguments, double duration, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var all = new List<string> { "-hide_banner", "-nostdin", "-y", "-v", "error", "-progress", "pipe:1" };
        all.AddRange(arguments);
        var result = await RunAsync(_options.FfmpegPath, all, line =>
        {
            if (progress is not null && duration > 0 && line.StartsWith("out_time_us=", StringComparison.Ordinal)
                && long.TryParse(line.AsSpan("out_time_us=".Length), out var microseconds))
            {
                progress.Report(Math.Clamp(microseconds / 1e6 / duration, 0, 1));
            }
        }, TimeSpan.FromHours(3), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw StepException.Permanent($"ffmpeg could not process the media ({FirstLine(result.Error)}).");
        }
    }

    private static async Task<ProcessResult> RunAsync(string program, IReadOnlyList<string> arguments, Action<string>? onLine, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw StepException.Permanent($"The program '{program}' could not be started; is ffmpeg installed (apt-get install ffmpeg)?", ex);
        }

        using (process)
        {
            var output = new StringBuilder();
            var error = new StringBuilder();
            var stdout = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
                {
                    if (onLine is null)
                    {
                        output.AppendLine(line);
                    }
                    else
                    {
                        onLine(line);
                    }
                }
            }, CancellationToken.None);
            // stderr is kept short: only its start says what went wrong.
            var stderr = Task.Run(async () =>
            {
                while (await process.StandardError.ReadLineAsync(CancellationToken.None) is { } line)
                {
                    if (error.Length < 4000)
                    {
                        error.AppendLine(line);
                    }
                }
            }, CancellationToken.None);
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(timeoutSource.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                cancellationToken.ThrowIfCancellationRequested();
                throw StepException.Retryable($"{Path.GetFileName(program)} did not finish within {timeout}.");
            }

            await Task.WhenAll(stdout, stderr);
            return new ProcessResult(process.ExitCode, output.ToString(), error.ToString());
        }
    }

    private static bool IsAttachedPicture(JsonElement stream) =>
        stream.TryGetProperty("disposition", out var d) && d.TryGetProperty("attached_pic", out var a) && a.ValueKind == JsonValueKind.Number && a.GetInt32() == 1;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v)
            ? v.ValueKind == JsonValueKind.Number ? v.GetInt32() : int.TryParse(v.GetString(), out var i) ? i : null
            : null;

    private static double? Double(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no details";
        // ffprobe may echo the input URL, which can carry a SAS signature.
        var query = line.IndexOf('?');
        return query >= 0 ? line[..query] + "?…" : line;
    }

    private sealed record ProcessResult(int ExitCode, string Output, string Error);
}
