using System.Diagnostics;

namespace MediaActors.Providers.Tests.OpenAi;

/// <summary>A temporary folder with audio made by ffmpeg; deleted on dispose.</summary>
public sealed class OpenAiTestAudio : IDisposable
{
    public OpenAiTestAudio()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"openai-tests-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        ChunkDirectory = Path.Combine(Directory, "chunks");
        System.IO.Directory.CreateDirectory(ChunkDirectory);
    }

    public string Directory { get; }

    /// <summary>Where the transcriber under test writes its chunk folders.</summary>
    public string ChunkDirectory { get; }

    /// <summary>A 16 kHz mono s16le WAV of a sine tone, like the media step's extract.</summary>
    public Task<string> WavAsync(double seconds, string name = "audio.wav") =>
        FfmpegAsync(name, "-f", "lavfi", "-i", $"sine=frequency=440:sample_rate=16000:duration={seconds}", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le");

    /// <summary>A compressed (MP3) copy, like the media step's upload copy.</summary>
    public Task<string> Mp3Async(double seconds, string name = "audio.mp3") =>
        FfmpegAsync(name, "-f", "lavfi", "-i", $"anoisesrc=color=pink:sample_rate=16000:duration={seconds}", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k");

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<string> FfmpegAsync(string name, params string[] arguments)
    {
        var path = Path.Combine(Directory, name);
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-nostdin", "-hide_banner", "-loglevel", "error", "-y" }.Concat(arguments).Append(path))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await error);
        return path;
    }
}
