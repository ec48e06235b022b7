using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Ingestion;

/// <summary>
/// Downloads platform links and web pages with the yt-dlp program, in two runs:
/// <list type="number">
/// <item>extract (<c>-J</c>, nothing downloaded) after the page's host has passed the <see cref="NetworkGuard"/>;
/// then every URL of the chosen format is checked with the guard too, for a clear early error;</item>
/// <item>download exactly that format from the saved information (<c>--load-info-json</c>), with the size limit
/// enforced by yt-dlp (<c>--max-filesize</c>) and by counting progress, and the process tree killed on cancellation.</item>
/// </list>
/// Both runs connect only through a <see cref="GuardedProxy"/> of their own (in yt-dlp's environment), so every connection yt-dlp makes
/// (redirects, media, HLS/DASH fragments) is resolved, checked and connected by the guard; a refused one stops the run.
/// For web pages a plain http(s) format is fetched through the guarded HttpClient instead.
/// </summary>
public sealed class YtDlpDownloader(NetworkGuard guard, HttpMediaDownloader http, IOptions<IngestionOptions> options, ILogger<YtDlpDownloader> logger)
{
    /// <summary>One file with video and audio, mp4 when offered: no merging step (and no ffmpeg) needed.</summary>
    public const string FormatSelector = "best[ext=mp4]/best";

    private const string InfoFileName = ".media-info.json";
    private const string ProgressPrefix = "[ma-progress]";
    private const string ResultPrefix = "[ma-result]";
    private const int MaxInfoChars = 64 * 1024 * 1024;

    private readonly IngestionOptions _options = options.Value;

    /// <summary>Downloads a platform link (YouTube, TikTok...) with yt-dlp into "media.ext" in <paramref name="targetDirectory"/>.</summary>
    public Task<DownloadedMedia> DownloadAsync(Uri url, string targetDirectory, long maxBytes, IProgress<double>? progress, CancellationToken cancellationToken) =>
        RunAsync(url, targetDirectory, maxBytes, progress, fetchPlainHttpOurselves: false, cancellationToken);

    /// <summary>Finds the video a web page embeds (yt-dlp's extractors, the generic one included) and downloads it.</summary>
    public Task<DownloadedMedia> DownloadFromWebPageAsync(Uri url, string targetDirectory, long maxBytes, IProgress<double>? progress, CancellationToken cancellationToken) =>
        RunAsync(url, targetDirectory, maxBytes, progress, fetchPlainHttpOurselves: true, cancellationToken);

    private async Task<DownloadedMedia> RunAsync(Uri url, string targetDirectory, long maxBytes, IProgress<double>? progress, bool fetchPlainHttpOurselves,
        CancellationToken cancellationToken)
    {
        LinkRules.Validate(url);
        // yt-dlp resolves and connects by itself: the page's host is checked here, the media's hosts after extraction.
        await guard.ResolveAsync(url.IdnHost, url.Port, cancellationToken);
        Directory.CreateDirectory(targetDirectory);
        // A partial file of an earlier attempt would look "already downloaded" to yt-dlp.
        MediaFiles.DeleteDownloads(targetDirectory);
        var infoPath = Path.Combine(targetDirectory, InfoFileName);
        try
        {
            var video = await ExtractAsync(url, cancellationToken);
            var formats = ChosenFormats(video);
            await CheckFormatHostsAsync(formats, cancellationToken);
            var expectedBytes = formats.Sum(format => format.ExpectedBytes ?? 0);
            if (expectedBytes > maxBytes)
            {
                throw HttpMediaDownloader.TooLarge(maxBytes);
            }

            var title = MediaFiles.CleanTitle(ChosenFormat.Text(video, "title"));
            if (fetchPlainHttpOurselves && formats is [{ Protocol: "http" or "https" } single])
            {
                var fetched = await http.DownloadAsync(single.Url, single.Headers, targetDirectory, maxBytes, acceptWebPage: false, progress, cancellationToken);
                return fetched.Media! with { Title = title ?? fetched.Media!.Title };
            }

            await File.WriteAllTextAsync(infoPath, video.ToJsonString(), cancellationToken);
            return await DownloadWithYtDlpAsync(infoPath, targetDirectory, maxBytes, title, progress, cancellationToken);
        }
        catch
        {
            MediaFiles.DeleteDownloads(targetDirectory);
            throw;
        }
        finally
        {
            MediaFiles.TryDelete(infoPath);
        }
    }

    private async Task<JsonObject> ExtractAsync(Uri url, CancellationToken cancellationToken)
    {
        var json = new StringBuilder();
        await using var proxy = GuardedProxy.Start(guard, _options.SocketTimeout, logger);
        var arguments = CommonArguments();
        arguments.AddRange(["--dump-single-json", "--", url.AbsoluteUri]);
        var exit = await YtDlpProcess.RunAsync(_options.YtDlpPath, arguments, line =>
        {
            json.Append(line).Append('\n');
            return json.Length > MaxInfoChars ? StepException.Permanent("yt-dlp described the link with more information than allowed.") : null;
        }, _options.DownloadTimeout, cancellationToken, proxy.Refused, proxy.Environment);
        Log("extract", url, exit);
        ThrowIfRefused(proxy);
        if (exit.ExitCode != 0)
        {
            throw Failure(proxy, exit);
        }

        JsonObject? info;
        try
        {
            info = JsonNode.Parse(json.ToString()) as JsonObject;
        }
        catch (JsonException ex)
        {
            throw StepException.Permanent("yt-dlp gave no readable information about the link.", ex);
        }

        // A playlist or a page with several videos: the first video (--playlist-items 1 extracted only that one).
        if (info?["_type"] is JsonValue type && type.GetValueKind() == JsonValueKind.String && type.GetValue<string>() == "playlist")
        {
            info = info["entries"] is JsonArray { Count: > 0 } entries ? entries[0] as JsonObject : null;
        }

        return info ?? throw StepException.Permanent("No video was found at the link.");
    }

    private async Task<DownloadedMedia> DownloadWithYtDlpAsync(string infoPath, string targetDirectory, long maxBytes, string? title,
        IProgress<double>? progress, CancellationToken cancellationToken)
    {
        await using var proxy = GuardedProxy.Start(guard, _options.SocketTimeout, logger);
        var arguments = CommonArguments();
        // --print makes yt-dlp quiet; --verbose then sends its log to stderr, the only place it says a file was skipped for --max-filesize.
        arguments.AddRange([
            "--no-part", "--no-mtime", "--newline", "--progress", "--verbose",
            // yt-dlp's own downloader for streams, so that ffmpeg never opens network connections of its own.
            "--downloader", "dash,m3u8:native",
            // A fragment the proxy refused (or that failed) must fail the download, not leave a hole in the video.
            "--abort-on-unavailable-fragment",
            "--max-filesize", maxBytes.ToString(CultureInfo.InvariantCulture),
            "--output", Path.Combine(targetDirectory.Replace("%", "%%"), MediaFiles.BaseName + ".%(ext)s"),
            "--print", $"after_move:{ResultPrefix}%(.{{filepath}})j",
            "--progress-template", $"download:{ProgressPrefix}%(progress.downloaded_bytes)s/%(progress.total_bytes)s/%(progress.total_bytes_estimate)s",
            "--load-info-json", infoPath,
        ]);
        string? resultLine = null;
        var reported = -1.0;
        var exit = await YtDlpProcess.RunAsync(_options.YtDlpPath, arguments, line =>
        {
            if (line.StartsWith(ResultPrefix, StringComparison.Ordinal))
            {
                resultLine = line[ResultPrefix.Length..];
                return null;
            }

            if (!line.StartsWith(ProgressPrefix, StringComparison.Ordinal))
            {
                return null;
            }

            var parts = line[ProgressPrefix.Length..].Split('/');
            var downloaded = parts.Length > 0 ? ParseBytes(parts[0]) : null;
            var announced = parts.Length > 1 ? ParseBytes(parts[1]) : null;
            var total = announced ?? (parts.Length > 2 ? ParseBytes(parts[2]) : null);
            if (downloaded > maxBytes || announced > maxBytes)
            {
                // yt-dlp's --max-filesize only looks at the size announced before the download: count as well.
                return HttpMediaDownloader.TooLarge(maxBytes);
            }

            if (downloaded is { } done && total is > 0 && progress is not null)
            {
                var fraction = Math.Min(1.0, (double)done / total.Value);
                if (fraction - reported >= 0.01)
                {
                    reported = fraction;
                    progress.Report(fraction);
                }
            }

            return null;
        }, _options.DownloadTimeout, cancellationToken, proxy.Refused, proxy.Environment);
        Log("download", null, exit);
        ThrowIfRefused(proxy);
        if (exit.ExitCode != 0)
        {
            throw Failure(proxy, exit);
        }

        if (resultLine is null)
        {
            throw YtDlpErrors.SkippedAsTooLarge(exit.Log)
                ? HttpMediaDownloader.TooLarge(maxBytes)
                : StepException.Permanent($"yt-dlp finished without downloading a file: {YtDlpErrors.Summary(exit.Log)}");
        }

        var path = ResultPath(resultLine, targetDirectory);
        var size = new FileInfo(path).Length;
        if (size > maxBytes)
        {
            throw HttpMediaDownloader.TooLarge(maxBytes);
        }

        progress?.Report(1.0);
        return new DownloadedMedia(path, size, title, MediaFiles.ContentTypeFor(path));
    }

    /// <summary>yt-dlp's error, or the proxy's failed lookup when that is what yt-dlp ran into (our 502 says less than "host not found").</summary>
    private static StepException Failure(GuardedProxy proxy, YtDlpExit exit)
    {
        var error = YtDlpErrors.FromExit(exit);
        return proxy.LookupFailure is { } lookup && error.Message.Contains("502", StringComparison.Ordinal) ? lookup : error;
    }

    /// <summary>A refusal fails the run even when yt-dlp itself carried on (a skipped fragment, a fallback format).</summary>
    private static void ThrowIfRefused(GuardedProxy proxy)
    {
        if (proxy.Refusal is { } refusal)
        {
            throw refusal;
        }
    }

    private List<string> CommonArguments()
    {
        // No --proxy: the run's filtering proxy is in yt-dlp's environment (GuardedProxy.Environment), with NO_PROXY removed.
        List<string> arguments =
        [
            "--ignore-config", "--no-cache-dir", "--no-colors",
            "--no-playlist", "--playlist-items", "1",
            "--socket-timeout", Math.Max(1, (int)_options.SocketTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            "--retries", "3", "--fragment-retries", "3",
            "--format", FormatSelector,
        ];
        if (!string.IsNullOrWhiteSpace(_options.UserAgent))
        {
            arguments.AddRange(["--user-agent", _options.UserAgent]);
        }

        return arguments;
    }

    private static IReadOnlyList<ChosenFormat> ChosenFormats(JsonObject video)
    {
        // Several formats when yt-dlp would merge video and audio; otherwise the chosen format's fields are on the video itself.
        var sources = video["requested_formats"] is JsonArray { Count: > 0 } requested
            ? requested.OfType<JsonObject>().ToList()
            : [video];
        var formats = sources.Select(ChosenFormat.From).OfType<ChosenFormat>().ToList();
        return formats.Count == sources.Count
            ? formats
            : throw StepException.Permanent("yt-dlp found no downloadable format for the link.");
    }

    private async Task CheckFormatHostsAsync(IReadOnlyList<ChosenFormat> formats, CancellationToken cancellationToken)
    {
        foreach (var link in formats.SelectMany(format => format.LinksToCheck).DistinctBy(link => (link.IdnHost, link.Port)))
        {
            if (!LinkRules.TryValidate(link, out var problem))
            {
                throw StepException.Permanent($"The video is served from a link that is not allowed: {problem}");
            }

            try
            {
                await guard.ResolveAsync(link.IdnHost, link.Port, cancellationToken);
            }
            catch (StepException ex)
            {
                throw new StepException($"The video is served from {LinkRules.Origin(link)}. {ex.Message}", ex.Transient, ex);
            }
        }
    }

    private static string ResultPath(string resultLine, string targetDirectory)
    {
        string? path = null;
        try
        {
            path = JsonNode.Parse(resultLine)?["filepath"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Reported below as a missing file.
        }

        var directory = Path.GetFullPath(targetDirectory) + Path.DirectorySeparatorChar;
        var full = path is null ? null : Path.GetFullPath(path);
        return full is not null && full.StartsWith(directory, StringComparison.Ordinal) && File.Exists(full)
            ? full
            : throw StepException.Permanent("yt-dlp reported a download but the file is not where it was asked to be.");
    }

    private static long? ParseBytes(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 ? (long)value : null;

    private void Log(string phase, Uri? url, YtDlpExit exit)
    {
        if (exit.ExitCode == 0)
        {
            logger.LogDebug("yt-dlp {Phase} {Origin} finished", phase, url is null ? "" : LinkRules.Origin(url));
        }
        else
        {
            logger.LogWarning("yt-dlp {Phase} {Origin} exited with {ExitCode}: {Summary}", phase, url is null ? "" : LinkRules.Origin(url), exit.ExitCode,
                YtDlpErrors.Summary(exit.Log));
        }
    }

    /// <summary>One format yt-dlp chose: where it is, how (protocol), the headers it wants, its announced size.</summary>
    private sealed record ChosenFormat(Uri Url, string Protocol, IReadOnlyList<KeyValuePair<string, string>> Headers, long? ExpectedBytes,
        IReadOnlyList<Uri> LinksToCheck)
    {
        public static ChosenFormat? From(JsonObject format)
        {
            if (Text(format, "url") is not { } text || !Uri.TryCreate(text, UriKind.Absolute, out var url))
            {
                return null;
            }

            var links = new List<Uri> { url };
            foreach (var key in new[] { "manifest_url", "fragment_base_url" })
            {
                if (Text(format, key) is { } extra && Uri.TryCreate(extra, UriKind.Absolute, out var extraUrl))
                {
                    links.Add(extraUrl);
                }
            }

            var headers = format["http_headers"] is JsonObject map
                ? map.Where(pair => pair.Value?.GetValueKind() == JsonValueKind.String)
                    .Select(pair => KeyValuePair.Create(pair.Key, pair.Value!.GetValue<string>())).ToList()
                : [];
            var size = Number(format, "filesize") ?? Number(format, "filesize_approx");
            return new ChosenFormat(url, Text(format, "protocol") ?? "", headers, size, links);
        }

        public static string? Text(JsonObject node, string key) =>
            node[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

        private static long? Number(JsonObject node, string key) =>
            node[key] is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? (long)value.GetValue<double>() : null;
    }
}
