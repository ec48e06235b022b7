using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace MediaActors.Providers.Transcription.OpenAi;

/// <summary>Runs a command-line tool (ffmpeg, ffprobe) to completion, killing it when the step is cancelled.</summary>
internal static class ToolProcess
{
    private const int MaxStderrChars = 2000;

    public sealed record Result(int ExitCode, string StandardOutput, string StandardErrorTail);

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw StepException.Permanent($"Could not start '{fileName}': {e.Message}. Install it or set its path (Media:FfmpegPath / Media:FfprobePath).", e);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = ReadTailAsync(process.StandardError);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    // Keeps only the end of stderr: memory stays bounded whatever the tool prints.
    private static async Task<string> ReadTailAsync(StreamReader reader)
    {
        var tail = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false)) > 0)
        {
            tail.Append(buffer, 0, read);
            if (tail.Length > MaxStderrChars * 2)
            {
                tail.Remove(0, tail.Length - MaxStderrChars);
            }
        }

        return tail.Length > MaxStderrChars ? tail.ToString(tail.Length - MaxStderrChars, MaxStderrChars) : tail.ToString();
    }
}
