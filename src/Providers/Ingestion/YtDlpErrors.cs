namespace MediaActors.Providers.Ingestion;

/// <summary>Turns yt-dlp's exit code and ERROR lines into a permanent or retryable <see cref="StepException"/>.</summary>
internal static class YtDlpErrors
{
    // Checked first: the video itself cannot be had, whatever the network does.
    private static readonly string[] _permanent =
    [
        "Unsupported URL", "HTTP Error 400", "HTTP Error 401", "HTTP Error 403", "HTTP Error 404", "HTTP Error 410", "HTTP Error 451",
        "Video unavailable", "Private video", "This video is private", "is not available", "has been removed", "no longer available",
        "does not exist", "Sign in", "log in", "login", "members-only", "age-restricted", "age restricted", "not available in your country",
        "geo restrict", "Requested format is not available", "No video formats found", "Incomplete YouTube ID", "Invalid URL", "is not a valid URL",
        "DRM protected", "copyright", "Unable to extract",
    ];

    private static readonly string[] _retryable =
    [
        "HTTP Error 5", "HTTP Error 429", "HTTP Error 408", "timed out", "Timeout", "Connection reset", "Connection refused", "Connection aborted",
        "Remote end closed", "IncompleteRead", "Temporary failure in name resolution", "Network is unreachable", "No route to host",
        "urlopen error", "Bad Gateway", "EOF occurred", "Broken pipe", "Too Many Requests", "RemoteDisconnected", "Service Unavailable",
    ];

    public static StepException FromExit(YtDlpExit exit)
    {
        if (exit.ExitCode == 2)
        {
            return StepException.Permanent($"yt-dlp rejected its options (is the installed version supported?): {Summary(exit.Log)}");
        }

        var summary = Summary(exit.Log);
        var message = $"yt-dlp could not get the video: {summary}";
        if (_permanent.Any(word => summary.Contains(word, StringComparison.OrdinalIgnoreCase)))
        {
            return StepException.Permanent(message);
        }

        // A network failure, or no ERROR line at all (killed by a signal, crashed): another attempt may work.
        var hasError = exit.Log.Any(line => line.StartsWith("ERROR:", StringComparison.Ordinal));
        if (!hasError || _retryable.Any(word => summary.Contains(word, StringComparison.OrdinalIgnoreCase)))
        {
            return StepException.Retryable(message);
        }

        // Anything else is mostly an extractor that no longer understands the site: retrying will not change that.
        return StepException.Permanent(message);
    }

    /// <summary>True when yt-dlp skipped the download because of --max-filesize (it still exits 0).</summary>
    public static bool SkippedAsTooLarge(IReadOnlyList<string> log) =>
        log.Any(line => line.Contains("larger than max-filesize", StringComparison.OrdinalIgnoreCase));

    /// <summary>The ERROR lines without yt-dlp's boilerplate, or the last log lines when there is none.</summary>
    public static string Summary(IReadOnlyList<string> log)
    {
        // yt-dlp writes some errors as "ERROR: \r[download] Got error: ...": the reader splits at the \r, so an empty ERROR
        // line takes its text from the line after it.
        var errors = log.Select((line, index) => (line, index))
            .Where(entry => entry.line.StartsWith("ERROR:", StringComparison.Ordinal))
            .Select(entry => entry.line["ERROR:".Length..].Trim().Length == 0 && entry.index + 1 < log.Count
                ? "ERROR: " + log[entry.index + 1]
                : entry.line)
            .Select(Clean)
            .Where(text => text.Length > 0)
            .ToList();
        var text = errors.Count > 0 ? string.Join(" ", errors) : string.Join(" ", log.TakeLast(3).Select(line => line.Trim()));
        if (text.Length == 0)
        {
            return "no error message";
        }

        return text.Length <= 500 ? text : text[..500] + "...";
    }

    private static string Clean(string line)
    {
        var text = line["ERROR:".Length..].Trim();
        foreach (var tail in new[] { "; please report this issue", " (caused by ", "; please report", " Confirm you are on the latest version" })
        {
            var at = text.IndexOf(tail, StringComparison.Ordinal);
            if (at > 0)
            {
                text = text[..at];
            }
        }

        return new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
    }
}
