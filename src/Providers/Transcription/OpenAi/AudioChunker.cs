using System.Globalization;

namespace MediaActors.Providers.Transcription.OpenAi;

/// <summary>One time window of the audio, encoded to its own file for upload.</summary>
internal sealed record AudioChunk(int Index, double Start, double? Length)
{
    /// <summary>The end of the window, or null for the last chunk, which runs to the end of the file.</summary>
    public double? End => Length is { } length ? Start + length : null;
}

/// <summary>Splits audio that is over the provider's upload limit into mono MP3 chunks with ffmpeg.</summary>
internal sealed class AudioChunker(string ffmpegPath, string ffprobePath)
{
    // MP3 bitrates (kbit/s) good enough for speech recognition, best first; chunks are shortened rather than going lower.
    private static readonly int[] _bitratesKbps = [64, 48, 32];
    private const double SizeMargin = 1.05;
    private const long HeaderBytes = 8192;

    /// <summary>Chunk windows and the bitrate that keeps each chunk under <paramref name="maxUploadBytes"/>.</summary>
    public static (IReadOnlyList<AudioChunk> Chunks, int BitrateKbps) Plan(double durationSeconds, long maxUploadBytes, int chunkSeconds)
    {
        if (chunkSeconds <= 0)
        {
            throw StepException.Permanent("Transcription:OpenAI:ChunkSeconds must be positive.");
        }

        var bitrate = _bitratesKbps[^1];
        double length = chunkSeconds;
        var fitting = _bitratesKbps.Where(b => BytesFor(chunkSeconds, b) <= maxUploadBytes).ToArray();
        if (fitting.Length > 0)
        {
            bitrate = fitting[0];
        }
        else
        {
            length = Math.Floor((maxUploadBytes - HeaderBytes) / (bitrate * 1000 / 8.0 * SizeMargin));
            if (length < 1)
            {
                throw StepException.Permanent($"Transcription:OpenAI:MaxUploadBytes ({maxUploadBytes}) is too small to hold even one second of audio.");
            }
        }

        // A remainder under half a second joins the last chunk instead of becoming a chunk of its own.
        var count = Math.Max(1, (int)Math.Ceiling((durationSeconds - 0.5) / length));
        var chunks = new List<AudioChunk>(count);
        for (var i = 0; i < count; i++)
        {
            chunks.Add(new AudioChunk(i, i * length, i == count - 1 ? null : length));
        }

        return (chunks, bitrate);
    }

    /// <summary>Encodes one window of <paramref name="sourcePath"/> to <paramref name="targetPath"/> (mono 16 kHz MP3).</summary>
    public async Task EncodeAsync(string sourcePath, AudioChunk chunk, int bitrateKbps, string targetPath, CancellationToken cancellationToken)
    {
        var arguments = new List<string> { "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-ss", Seconds(chunk.Start) };
        if (chunk.Length is { } length)
        {
            arguments.AddRange(["-t", Seconds(length)]);
        }

        arguments.AddRange(["-i", sourcePath, "-vn", "-map", "0:a:0", "-ac", "1", "-ar", "16000", "-c:a", "libmp3lame", "-b:a", $"{bitrateKbps}k", targetPath]);
        var result = await ToolProcess.RunAsync(ffmpegPath, arguments, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0 || !File.Exists(targetPath))
        {
            throw StepException.Permanent($"ffmpeg could not cut chunk {chunk.Index + 1} of the audio for transcription (exit code {result.ExitCode}): {result.StandardErrorTail.Trim()}");
        }
    }

    /// <summary>The duration of a media file in seconds, read with ffprobe.</summary>
    public async Task<double> ProbeDurationAsync(string path, CancellationToken cancellationToken)
    {
        var result = await ToolProcess.RunAsync(
            ffprobePath,
            ["-v", "error", "-show_entries", "format=duration", "-of", "default=noprint_wrappers=1:nokey=1", path],
            cancellationToken).ConfigureAwait(false);
        if (result.ExitCode == 0 && double.TryParse(result.StandardOutput.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            return seconds;
        }

        throw StepException.Permanent($"ffprobe could not read the duration of the audio (exit code {result.ExitCode}): {result.StandardErrorTail.Trim()}");
    }

    private static double BytesFor(double seconds, int bitrateKbps) => (seconds * bitrateKbps * 1000 / 8.0 * SizeMargin) + HeaderBytes;

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
