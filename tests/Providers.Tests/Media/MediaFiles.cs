using System.Diagnostics;

namespace MediaActors.Providers.Tests.Media;

/// <summary>Inputs made once per test class by the real ffmpeg from its lavfi sources; deleted on dispose.</summary>
public sealed class MediaFiles : IAsyncLifetime
{
    public const double Seconds = 5;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"media-tests-{Guid.NewGuid():N}");

    /// <summary>H.264 320x240 + AAC, 5 s.</summary>
    public string Video => File("video.mp4");

    /// <summary>AAC only, 5 s.</summary>
    public string Audio => File("audio.m4a");

    /// <summary>An MP3 with an embedded cover picture (a video stream with the attached_pic disposition).</summary>
    public string CoverArtMp3 => File("cover.mp3");

    /// <summary>19753 samples at 16 kHz: 1.2345625 s, not a whole number of milliseconds.</summary>
    public string OddLength => File("odd.wav");

    /// <summary>Text, not media.</summary>
    public string NotMedia => File("notes.txt");

    /// <summary>30 minutes of 16 kHz pink noise: about 4 s of MP3 encoding, long enough to be stopped mid-way.</summary>
    public string Long => File("long.wav");

    public string File(string name) => Path.Combine(Directory, name);

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var seconds = Seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await FfmpegAsync("-f", "lavfi", "-i", $"testsrc=duration={seconds}:size=320x240:rate=25", "-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds}",
            "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", Video);
        await FfmpegAsync("-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds}", "-c:a", "aac", Audio);
        await FfmpegAsync("-f", "lavfi", "-i", "testsrc=size=200x200:rate=1", "-frames:v", "1", File("cover.png"));
        await FfmpegAsync("-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds}", "-i", File("cover.png"),
            "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic", "-id3v2_version", "3", CoverArtMp3);
        await FfmpegAsync("-f", "lavfi", "-i", "anoisesrc=sample_rate=16000:color=pink", "-t", "1800", "-c:a", "pcm_s16le", Long);
        await FfmpegAsync("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=2", "-af", "atrim=end_sample=19753", "-c:a", "pcm_s16le", OddLength);
        await System.IO.File.WriteAllTextAsync(NotMedia, "These are notes, not a video.\n");
    }

    public Task DisposeAsync()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    private static async Task FfmpegAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-nostdin", "-hide_banner", "-loglevel", "error", "-y" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("ffmpeg did not start (apt-get install -y ffmpeg).");
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ffmpeg failed: {await error}");
        }
    }
}
