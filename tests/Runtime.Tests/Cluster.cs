using System.Diagnostics;
using MediaActors.Runtime.TestSilo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MediaActors.Runtime.Tests;

/// <summary>Starts silos and clients in this process, or silo processes, against one test database.</summary>
public static class Cluster
{
    /// <summary>Fast timings so that tests about leases and deaths finish quickly.</summary>
    public static Dictionary<string, string?> FastSettings(string connectionString, string siloName) => new()
    {
        ["ConnectionStrings:Postgres"] = connectionString,
        ["Runtime:SiloName"] = siloName,
        ["Runtime:WorkLease"] = "00:00:02",
        ["Runtime:HeartbeatInterval"] = "00:00:00.500",
        ["Runtime:SiloDeadAfter"] = "00:00:03",
        ["Runtime:ShutdownGrace"] = "00:00:01",
        ["Runtime:PollInterval"] = "00:00:00.500",
    };

    public static async Task<IHost> StartSiloAsync(string connectionString, string name = "silo", Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = FastSettings(connectionString, name);
        configure?.Invoke(settings);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSilo(builder.Configuration).AddTestGrains();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public static async Task<IHost> StartClientAsync(string connectionString, Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = FastSettings(connectionString, "client");
        configure?.Invoke(settings);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddActorClient(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<NotificationListener>().Listening;
        return host;
    }

    public static IClusterClient Client(this IHost host) => host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Polls a condition (a database or grain read) until it holds; the explicit signal tests wait on.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        T last;
        do
        {
            last = await read();
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(50);
        }
        while (stopwatch.Elapsed < timeout);

        throw new TimeoutException($"Timed out after {timeout} waiting for {what}; last value: {last}");
    }

    public static async Task StopAsync(this IHost host)
    {
        await host.StopAsync(TimeSpan.FromSeconds(30));
        host.Dispose();
    }
}

/// <summary>A silo in its own process (tests/Runtime.TestSilo), killable with SIGKILL; its output lines can be awaited.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waiters = [];

    private SiloProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public static async Task<SiloProcess> StartAsync(string connectionString, string name, IDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MediaActors.Runtime.TestSilo.dll");
        var info = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in Cluster.FastSettings(connectionString, name))
        {
            info.Environment[key.Replace(":", "__")] = value;
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var silo = new SiloProcess(Process.Start(info)!);
        silo._process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();
        await silo.WaitForLineAsync(l => l == "READY", TimeSpan.FromSeconds(60));
        return silo;
    }

    public Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        lock (_lines)
        {
            var seen = _lines.FirstOrDefault(match);
            if (seen is not null)
            {
                return Task.FromResult(seen);
            }

            var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, done));
            return done.Task.WaitAsync(timeout);
        }
    }

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
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

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
            foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
            {
                waiter.Done.TrySetResult(line);
                _waiters.Remove(waiter);
            }
        }
    }
}
