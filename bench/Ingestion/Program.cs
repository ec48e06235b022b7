using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MediaActors.Providers.Ingestion;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// What the filtering proxy costs a yt-dlp download, side by side in one run, rounds alternating:
//   direct     yt-dlp fetches the page and the file straight from the local server (no proxy in its environment)
//   proxied    the same yt-dlp command through a GuardedProxy (every connection resolved and checked by the guard)
//   production YouTubeHandler.DownloadAsync: the production path (extract run + download run, each with its own proxy)
// Usage: MediaActors.Ingestion.Bench <work dir> <file MiB> <rounds> <result.json>
var workDirectory = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "ma-bench-ingestion");
var sizeMiB = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 512;
var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
var resultPath = args.Length > 3 ? args[3] : Path.Combine(workDirectory, "result.json");
Directory.CreateDirectory(workDirectory);

var source = Path.Combine(workDirectory, "source.mp4");
if (!File.Exists(source) || new FileInfo(source).Length != sizeMiB * 1024L * 1024)
{
    await using var file = File.Create(source);
    var block = new byte[1024 * 1024];
    for (var i = 0; i < sizeMiB; i++)
    {
        Random.Shared.NextBytes(block);
        await file.WriteAsync(block);
    }
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls("http://127.0.0.1:0");
var app = builder.Build();
app.MapGet("/page.html", () => Results.Content("<!DOCTYPE html><html><head><title>bench</title></head><body><video src=\"/big.mp4\"></video></body></html>", "text/html"));
app.MapGet("/big.mp4", () => Results.File(source, "video/mp4", enableRangeProcessing: true));
await app.StartAsync();
var baseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
var page = new Uri(baseUri, "/page.html");

var guard = new NetworkGuard(Options.Create(new IngestionOptions { AllowPrivateNetworks = true }));
var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Ingestion:AllowPrivateNetworks"] = "true",
}).Build();
await using var services = new ServiceCollection().AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)).AddIngestion(configuration).BuildServiceProvider();
var youTube = services.GetServices<IPlatformHandler>().OfType<YouTubeHandler>().Single();

var results = new Dictionary<string, List<Sample>> { ["direct"] = [], ["proxied"] = [], ["production"] = [] };
for (var round = 0; round < rounds + 1; round++)
{
    // Round 0 warms the page cache and yt-dlp's imports; it is not counted. The order rotates each round.
    var order = new[] { "direct", "proxied", "production" };
    order = [.. order.Skip(round % 3), .. order.Take(round % 3)];
    foreach (var variant in order)
    {
        var target = Path.Combine(workDirectory, $"out-{variant}");
        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }

        Directory.CreateDirectory(target);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long bytes;
        switch (variant)
        {
            case "direct":
                bytes = await YtDlpAsync(page, target, proxyEnvironment: null);
                break;
            case "proxied":
                await using (var proxy = GuardedProxy.Start(guard, TimeSpan.FromSeconds(30), NullLogger.Instance))
                {
                    bytes = await YtDlpAsync(page, target, proxy.Environment);
                }

                break;
            default:
                bytes = (await youTube.DownloadAsync(page, target, long.MaxValue / 2, null, CancellationToken.None)).SizeBytes;
                break;
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        if (bytes != new FileInfo(source).Length)
        {
            throw new InvalidOperationException($"{variant} downloaded {bytes} bytes, expected {new FileInfo(source).Length}.");
        }

        Console.Error.WriteLine($"round {round} {variant,-10} {seconds,7:0.000} s  {bytes / seconds / 1048576,7:0.0} MiB/s  bench-process CPU {cpu:0.000} s");
        if (round > 0)
        {
            results[variant].Add(new Sample(seconds, cpu));
        }

        Directory.Delete(target, recursive: true);
    }
}

await app.StopAsync();
var summary = results.ToDictionary(pair => pair.Key, pair => new
{
    medianSeconds = Median(pair.Value.Select(sample => sample.Seconds)),
    mibPerSecond = sizeMiB / Median(pair.Value.Select(sample => sample.Seconds)),
    medianBenchProcessCpuSeconds = Median(pair.Value.Select(sample => sample.Cpu)),
    seconds = pair.Value.Select(sample => Math.Round(sample.Seconds, 3)).ToArray(),
});
var report = new
{
    fileMiB = sizeMiB,
    rounds,
    variants = summary,
    proxiedOverDirect = summary["proxied"].medianSeconds / summary["direct"].medianSeconds,
    productionOverDirect = summary["production"].medianSeconds / summary["direct"].medianSeconds,
};
var json = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true });
await File.WriteAllTextAsync(resultPath, json);
Console.WriteLine(json);
return 0;

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

// The same download options as production (YtDlpDownloader), in one run, with the proxy in the environment as production
// gives it, or with no proxy at all.
static async Task<long> YtDlpAsync(Uri page, string target, IReadOnlyDictionary<string, string?>? proxyEnvironment)
{
    var start = new ProcessStartInfo("yt-dlp") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var name in new[] { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY" })
    {
        start.Environment.Remove(name);
    }

    foreach (var (name, value) in proxyEnvironment ?? new Dictionary<string, string?>())
    {
        if (value is not null)
        {
            start.Environment[name] = value;
        }
    }

    foreach (var argument in new[]
    {
        "--ignore-config", "--no-cache-dir", "--no-colors", "--no-playlist", "--playlist-items", "1",
        "--socket-timeout", "30", "--retries", "3", "--format", YtDlpDownloader.FormatSelector, "--no-part", "--no-mtime", "--newline",
        "--downloader", "dash,m3u8:native", "--output", Path.Combine(target, "media.%(ext)s"), "--", page.AbsoluteUri,
    })
    {
        start.ArgumentList.Add(argument);
    }

    using var process = Process.Start(start)!;
    var stdout = process.StandardOutput.ReadToEndAsync();
    var stderr = process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"yt-dlp exited with {process.ExitCode}: {await stderr}");
    }

    await stdout;
    return new FileInfo(Directory.GetFiles(target).Single()).Length;
}

internal sealed record Sample(double Seconds, double Cpu);
