using System.Diagnostics;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>Media files made for the tests with ffmpeg and espeak-ng.</summary>
public static class TestMedia
{
    public const string Speech =
        "Solar panels turn sunlight into electricity. Batteries store the energy for the night. " +
        "A good battery makes solar power useful all day long. Engineers are improving batteries every year.";

    /// <summary>A video with a synthetic voice reading <paramref name="text"/>; a test pattern as picture.</summary>
    public static async Task<string> SpokenVideoAsync(string directory, string name = "speech.mp4", string text = Speech, double padSeconds = 0)
    {
        var wav = Path.Combine(directory, Path.ChangeExtension(name, ".voice.wav"));
        await RunAsync("espeak-ng", ["-s", "150", "-w", wav, text]);
        var output = Path.Combine(directory, name);
        var audioFilter = padSeconds > 0 ? $"apad=pad_dur={padSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "anull";
        await RunAsync("ffmpeg", ["-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-i", wav,
            "-af", audioFilter, "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", output]);
        File.Delete(wav);
        return output;
    }

    /// <summary>A video of picture noise (about 1 MB per second: big enough for many upload chunks) with a silent audio track.</summary>
    public static async Task<string> NoisyVideoAsync(string directory, string name, int seconds)
    {
        var output = Path.Combine(directory, name);
        await RunAsync("ffmpeg", ["-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i", $"testsrc=size=320x240:rate=15:duration={seconds},noise=alls=60:allf=t",
            "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-c:a", "aac", "-b:a", "32k",
            "-movflags", "+faststart", output]);
        return output;
    }

    /// <summary>A video without any audio stream.</summary>
    public static async Task<string> SilentVideoAsync(string directory)
    {
        var output = Path.Combine(directory, "silent.mp4");
        await RunAsync("ffmpeg", ["-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=15",
            "-c:v", "libx264", "-preset", "ultrafast", "-an", output]);
        return output;
    }

    public static async Task RunAsync(string program, string[] arguments)
    {
        var info = new ProcessStartInfo(program, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed: {await error}");
        }
    }
}
