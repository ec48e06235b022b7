using System.Diagnostics;
using MediaActors.Silo;
using Microsoft.Extensions.Logging.Console;
using Orleans.Configuration;
using Orleans.Storage;

namespace MediaActors.Orleans.Bench;

/// <summary>
/// A silo in its own process, as in production: this assembly run with "silo --ConnectionStrings:Postgres=... --Orleans:SiloPort=...".
/// It prints <see cref="ReadyLine"/> once it is Active and stops when its stdin closes (it never outlives the driver).
/// </summary>
public sealed class BenchSilo : IAsyncDisposable
{
    public const string ReadyLine = "BENCH-SILO-READY";

    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BenchSilo(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts a silo process and waits until it joined the cluster.</summary>
    public static async Task<BenchSilo> StartAsync(string name, IReadOnlyDictionary<string, string> settings, bool serverGc)
    {
        var assembly = typeof(BenchSilo).Assembly.Location;
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(assembly);
        }

        start.ArgumentList.Add("silo");
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["DOTNET_gcServer"] = serverGc ? "1" : "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start silo {name}.");
        var silo = new BenchSilo(process, name);
        process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => silo._ready.TrySetException(new InvalidOperationException($"Silo {name} exited (code {process.ExitCode}) before it was ready."));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await silo._ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }

        return silo;
    }

    /// <summary>Closes the silo's stdin (a graceful stop), and kills it if it is not gone within 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line == ReadyLine)
        {
            _ready.TrySetResult();
        }
        // Orleans warns that the 1 s minimum reminder period (SiloSetup's, on purpose) is below its own default.
        else if (line is { Length: > 0 } && !line.Contains("ReminderOptionsValidator", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"[{Name}] {line}");
        }
    }

    /// <summary>Entry point of the silo process: the production silo configuration plus the bench's second (binary) storage.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = args, ApplicationName = "bench-silo" });
        builder.Configuration.AddCommandLine(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        var configuration = builder.Configuration;
        var connectionString = configuration.GetConnectionString("Postgres") ?? throw new ArgumentException("--ConnectionStrings:Postgres is missing.");
        builder.UseOrleans(silo =>
        {
            silo.UseMediaActorsCluster(configuration);

            silo.Configure<SiloOptions>(o => o.SiloName = configuration["Bench:SiloName"] ?? "bench-silo");
            silo.AddAdoNetGrainStorage(BinaryBenchGrain.StorageName, o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = SiloSetup.ForOrleans(connectionString);
            });
            silo.Services.AddOptions<AdoNetGrainStorageOptions>(BinaryBenchGrain.StorageName)
                .Configure<global::Orleans.Serialization.Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
        });
        using var host = builder.Build();
        await host.StartAsync();
        Console.Out.WriteLine(ReadyLine);
        Console.Out.Flush();
        await Console.In.ReadToEndAsync();
        await host.StopAsync();
        return 0;
    }
}
