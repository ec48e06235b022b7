using System.Diagnostics;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>A built host (src/Silo or src/Api) run as a real process; killable with SIGKILL, its output kept for failure messages.</summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];

    private HostProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines.TakeLast(200));
            }
        }
    }

    /// <summary>Starts src/{project}'s built dll (same configuration as the tests) with the given settings as environment variables.</summary>
    public static HostProcess Start(string project, string name, IReadOnlyDictionary<string, string?> settings)
    {
        var dll = Path.Combine(RepositoryRoot(), "src", project, "bin", BuildConfiguration(), "net10.0", $"MediaActors.{project}.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"Build the solution first: {dll} is missing.");
        }

        var info = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        // Test hosts load the sentence model when a test first needs it, not each at its start (an option of the product).
        info.Environment["Embeddings__Local__LoadAtStart"] = "false";
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var host = new HostProcess(name, Process.Start(info)!);
        host._process.OutputDataReceived += (_, e) => host.Add(e.Data);
        host._process.ErrorDataReceived += (_, e) => host.Add(e.Data);
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits until the process ended by itself (false after <paramref name="timeout"/>).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM first: a graceful stop hands work back at once instead of waiting for a lease to expire.
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MediaActors.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new DirectoryNotFoundException("MediaActors.sln not found above the test folder.");
    }

    private static string BuildConfiguration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }
    }
}
