using System.Diagnostics;

namespace MediaActors.Providers.Tests.Ingestion;

/// <summary>A real 3-second H.264/AAC mp4 made once per test run by ffmpeg.</summary>
public static class TestClip
{
    private static readonly Lazy<Task<byte[]>> _clip = new(CreateAsync);

    public static Task<byte[]> BytesAsync() => _clip.Value;

    private static async Task<byte[]> CreateAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"ingestion-clip-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            var output = Path.Combine(directory, "clip.mp4");
            var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var argument in new[]
            {
                "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=25",
                "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-shortest", "-c:v", "libx264", "-c:a", "aac", output,
            })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("ffmpeg did not start (apt-get install -y ffmpeg yt-dlp).");
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"ffmpeg failed: {await errors}");
            }

            return await File.ReadAllBytesAsync(output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
