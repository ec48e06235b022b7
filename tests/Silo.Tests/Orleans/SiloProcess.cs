using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Xunit.Abstractions;

namespace MediaActors.Silo.Tests.OrleansSchema;

/// <summary>
/// A silo in a child process (this test assembly run with "silo &lt;settings json&gt;"), so a test can kill it for real:
/// an in-process "kill" still runs the silo's shutdown, which marks its own row Dead.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    public const string ReadyLine = "SILO-READY";

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly ITestOutputHelper _output;
    private readonly string _name;

    private SiloProcess(Process process, ITestOutputHelper output, string name)
    {
        _process = process;
        _output = output;
        _name = name;
    }

    public static async Task<SiloProcess> StartAsync(SiloSettings settings, ITestOutputHelper output)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(typeof(SiloProcess).Assembly.Location);
        start.ArgumentList.Add("silo");
        start.ArgumentList.Add(JsonSerializer.Serialize(settings));
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the silo process.");
        var silo = new SiloProcess(process, output, settings.Name);
        process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await silo.WaitForReadyAsync(Eventually.DefaultTimeout);
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }

        return silo;
    }

    /// <summary>SIGKILL: no shutdown code runs, the membership row is left as it was.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    /// <summary>Entry point of the child: hosts the silo until its stdin closes (so it never outlives the test run).</summary>
    public static async Task<int> RunAsync(string settingsJson)
    {
        var settings = JsonSerializer.Deserialize<SiloSettings>(settingsJson) ?? throw new ArgumentException("No silo settings.");
        using var host = await TestSilo.StartSiloAsync(settings, logging => logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        }));
        Console.Out.WriteLine(ReadyLine);
        Console.Out.Flush();
        await Console.In.ReadToEndAsync();
        await host.StopAsync();
        return 0;
    }

    private async Task WaitForReadyAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(cancellation.Token))
            {
                if (line == ReadyLine)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Silo process {_name} was not ready within {timeout.TotalSeconds:0}s.");
        }

        throw new InvalidOperationException($"Silo process {_name} exited before it was ready (exit code {_process.ExitCode}).");
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _lines.Writer.TryComplete();
            return;
        }

        _lines.Writer.TryWrite(line);
        TestOutputLoggerProvider.Write(_output, $"[{_name} process] {line}");
    }
}
