namespace MediaActors.Providers.Ingestion;

/// <summary>Names, types and titles of downloaded files: every download writes "media.ext" in its own directory.</summary>
public static class MediaFiles
{
    /// <summary>The downloaded file is this name plus an extension, in the target directory.</summary>
    public const string BaseName = "media";

    public const int MaxTitleLength = 200;

    private static readonly Dictionary<string, string> _extensionByType = new(StringComparer.OrdinalIgnoreCase)
    {
        ["video/mp4"] = ".mp4", ["video/webm"] = ".webm", ["video/quicktime"] = ".mov", ["video/x-matroska"] = ".mkv",
        ["video/x-msvideo"] = ".avi", ["video/mpeg"] = ".mpg", ["video/mp2t"] = ".ts", ["video/3gpp"] = ".3gp", ["video/x-flv"] = ".flv",
        ["audio/mpeg"] = ".mp3", ["audio/mp4"] = ".m4a", ["audio/x-m4a"] = ".m4a", ["audio/wav"] = ".wav", ["audio/x-wav"] = ".wav",
        ["audio/ogg"] = ".ogg", ["audio/webm"] = ".weba", ["audio/flac"] = ".flac", ["audio/aac"] = ".aac",
    };

    private static readonly Dictionary<string, string> _typeByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".mp4"] = "video/mp4", [".m4v"] = "video/mp4", [".webm"] = "video/webm", [".mov"] = "video/quicktime", [".mkv"] = "video/x-matroska",
        [".avi"] = "video/x-msvideo", [".ts"] = "video/mp2t", [".3gp"] = "video/3gpp", [".flv"] = "video/x-flv",
        [".mp3"] = "audio/mpeg", [".m4a"] = "audio/mp4", [".wav"] = "audio/wav", [".ogg"] = "audio/ogg", [".opus"] = "audio/ogg",
        [".weba"] = "audio/webm", [".flac"] = "audio/flac", [".aac"] = "audio/aac",
    };

    /// <summary>The extension for a response: from its Content-Type, else from the URL's path when it looks like one, else ".bin".</summary>
    public static string ExtensionFor(string? contentType, Uri url)
    {
        if (contentType is not null && _extensionByType.TryGetValue(contentType, out var known))
        {
            return known;
        }

        var fromPath = Path.GetExtension(url.AbsolutePath).ToLowerInvariant();
        return fromPath.Length is > 1 and <= 6 && fromPath.Skip(1).All(char.IsAsciiLetterOrDigit) ? fromPath : ".bin";
    }

    /// <summary>The media type for a file name's extension, or null when unknown.</summary>
    public static string? ContentTypeFor(string path) => _typeByExtension.GetValueOrDefault(Path.GetExtension(path));

    /// <summary>Titles come from the outside world: no control characters, bounded length, null when empty.</summary>
    public static string? CleanTitle(string? title)
    {
        if (string.IsNullOrWhiteSpace(title))
        {
            return null;
        }

        var text = new string(title.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        if (text.Length > MaxTitleLength)
        {
            text = text[..MaxTitleLength].TrimEnd();
        }

        return text.Length == 0 ? null : text;
    }

    /// <summary>Deletes what a download may have left in its directory ("media.*": the file, partial files, yt-dlp's temporaries).</summary>
    public static void DeleteDownloads(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (var path in Directory.EnumerateFiles(directory, BaseName + ".*"))
        {
            TryDelete(path);
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The caller deletes its whole directory anyway; a leftover file must not hide the real error.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
