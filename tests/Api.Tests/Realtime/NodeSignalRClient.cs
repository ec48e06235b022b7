using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;

namespace MediaActors.Api.Tests.Realtime;

/// <summary>The JavaScript SignalR client (npm @microsoft/signalr) under Node, in its own process; its events are read as JSON lines.</summary>
public sealed class NodeSignalRClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    private NodeSignalRClient(Process process) => _process = process;

    /// <summary>What the client wrote to stderr before its first line (its warnings), if anything.</summary>
    public string StartWarnings { get; private set; } = "";

    public static async Task<NodeSignalRClient> ConnectAsync(Uri api, string apiKey, string stopKind, string? projectId = null)
    {
        var (client, first) = await StartAsync(api, apiKey, stopKind, projectId);
        Assert.True(first == "CONNECTED", $"The SignalR client did not connect: {first}\n{client.StartWarnings}");
        return client;
    }

    /// <summary>Starts the client and returns its first line: CONNECTED, or FAILED with the reason.</summary>
    public static async Task<(NodeSignalRClient Client, string FirstLine)> StartAsync(Uri api, string apiKey, string stopKind, string? projectId = null)
    {
        var modules = Environment.GetEnvironmentVariable("MA_TEST_NODE_MODULES") is { Length: > 0 } value
            ? value
            : Path.Combine(EndToEnd.HostProcess.RepositoryRoot(), "tools", "node_modules");
        var script = Path.Combine(AppContext.BaseDirectory, "Realtime", "signalr-client.mjs");
        var info = new ProcessStartInfo("node", [script, api.ToString().TrimEnd('/'), apiKey, stopKind, .. projectId is null ? Array.Empty<string>() : [projectId]])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["MA_TEST_NODE_MODULES"] = modules;
        var client = new NodeSignalRClient(Process.Start(info)!);
        client._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                client._lines.Writer.TryWrite(line);
            }
        };
        client._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                client._lines.Writer.TryWrite("STDERR " + line);
            }
        };
        client._process.BeginOutputReadLine();
        client._process.BeginErrorReadLine();
        // The client's warnings (stderr) may come before its first line: they are kept for the message, not taken for it.
        var warnings = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string first;
        while ((first = await client._lines.Reader.ReadAsync(deadline.Token)).StartsWith("STDERR", StringComparison.Ordinal))
        {
            warnings.Add(first);
        }

        client.StartWarnings = string.Join('\n', warnings);
        return (client, first);
    }

    /// <summary>Events until one of kind <paramref name="stopKind"/> arrived (the client then exits).</summary>
    public async Task<List<JsonElement>> EventsUntilAsync(string stopKind, TimeSpan timeout)
    {
        var events = new List<JsonElement>();
        // The client's warnings (written to stderr) do not fail the test by themselves: a lost or repeated event shows in
        // the sequence numbers. They are shown when the stop event does not come.
        var warnings = new List<string>();
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            string line;
            try
            {
                line = await _lines.Reader.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No '{stopKind}' event within {timeout} ({events.Count} events before).\n{string.Join('\n', warnings)}");
            }

            if (line.StartsWith("STDERR", StringComparison.Ordinal))
            {
                warnings.Add(line);
                continue;
            }

            Assert.False(line is "TIMEOUT", $"The client gave up waiting.\n{string.Join('\n', warnings)}");
            var element = JsonDocument.Parse(line).RootElement.Clone();
            events.Add(element);
            if (element.GetProperty("kind").GetString() == stopKind)
            {
                return events;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
