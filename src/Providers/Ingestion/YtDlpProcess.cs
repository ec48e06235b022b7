using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace MediaActors.Providers.Ingestion;

/// <summary>What one yt-dlp run left behind: its exit code and the log lines it wrote to stderr (debug lines dropped).</summary>
internal sealed record YtDlpExit(int ExitCode, IReadOnlyList<string> Log);

/// <summary>
/// Runs the yt-dlp program once with an argument list (never a shell string), hands each stdout line to a callback,
/// and kills the whole process tree on cancellation, on timeout or when the callback asks to stop.
/// </summary>
internal static class YtDlpProcess
{
    private const int MaxLogLines = 200;

    /// <param name="onLine">Called for each stdout line; returning an exception stops the run, kills yt-dlp and throws it.</param>
    /// <param name="abort">When it completes (with an exception to throw), the run stops the same way.</param>
    /// <param name="environment">Variables to set (a null value removes the variable) on top of this process's environment.</param>
    public static async Task<YtDlpExit> RunAsync(string program, IReadOnlyList<string> arguments, Func<string, Exception?> onLine, TimeSpan timeout,
        CancellationToken cancellationToken, Task<Exception>? abort = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PYTHONUNBUFFERED"] = "1";
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        start.Environment["LC_ALL"] = "C.UTF-8";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw StepException.Permanent($"yt-dlp could not be started ('{program}': {ex.Message}). Install yt-dlp or set Ingestion:YtDlpPath.", ex);
        }

        process.StandardInput.Close();
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        Exception? stopReason = null;
        void Stop(Exception reason)
        {
            if (Interlocked.CompareExchange(ref stopReason, reason, null) is null)
            {
                Kill(process);
            }
        }

        using var aborted = new CancellationTokenSource();
        _ = abort?.ContinueWith(reason => Stop(reason.Result), aborted.Token, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        var log = new Queue<string>();
        var stdout = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (Volatile.Read(ref stopReason) is null && onLine(line) is { } stop)
                {
                    Stop(stop);
                }
            }
        }, CancellationToken.None);
        var stderr = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("[debug]", StringComparison.Ordinal))
                {
                    continue;
                }

                lock (log)
                {
                    log.Enqueue(line);
                    if (log.Count > MaxLogLines)
                    {
                        log.Dequeue();
                    }
                }
            }
        }, CancellationToken.None);

        try
        {
            await process.WaitForExitAsync(timer.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(stdout, stderr);
            cancellationToken.ThrowIfCancellationRequested();
            throw StepException.Retryable($"yt-dlp did not finish within {timeout}.");
        }

        await Task.WhenAll(stdout, stderr);
        await aborted.CancelAsync();
        if (Volatile.Read(ref stopReason) is { } reason)
        {
            throw reason;
        }

        lock (log)
        {
            return new YtDlpExit(process.ExitCode, log.ToArray());
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
