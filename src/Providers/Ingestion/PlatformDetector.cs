namespace MediaActors.Providers.Ingestion;

/// <summary>Tells which platform a link belongs to (by host and path) and picks the registered handler for it.</summary>
public sealed class PlatformDetector(IEnumerable<IPlatformHandler> handlers)
{
    private readonly IReadOnlyList<IPlatformHandler> _handlers = handlers.ToList();

    /// <summary>The platform of a link; anything that is not a recognised video link of a platform is <see cref="SourcePlatform.Direct"/>.</summary>
    public static SourcePlatform Detect(Uri url)
    {
        if (!url.IsAbsoluteUri || url.HostNameType != UriHostNameType.Dns)
        {
            return SourcePlatform.Direct;
        }

        // IdnHost is the punycode form: look-alike Unicode host names do not match.
        var host = url.IdnHost.TrimEnd('.').ToLowerInvariant();
        var path = url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (IsYouTube(host, path, url))
        {
            return SourcePlatform.YouTube;
        }

        if (IsTikTok(host, path))
        {
            return SourcePlatform.TikTok;
        }

        if (IsInstagram(host, path))
        {
            return SourcePlatform.Instagram;
        }

        if (IsFacebook(host, path, url))
        {
            return SourcePlatform.Facebook;
        }

        if (IsX(host, path))
        {
            return SourcePlatform.X;
        }

        return IsVimeo(host, path) ? SourcePlatform.Vimeo : SourcePlatform.Direct;
    }

    /// <summary>Validates a user's link and tells its platform; throws a permanent <see cref="StepException"/> for a bad link.</summary>
    public static (Uri Url, SourcePlatform Platform) Parse(string? link)
    {
        var url = LinkRules.Parse(link);
        return (url, Detect(url));
    }

    /// <summary>The registered handler for a link's platform.</summary>
    public IPlatformHandler Resolve(Uri url)
    {
        var platform = Detect(url);
        return _handlers.FirstOrDefault(handler => handler.Platform == platform && handler.CanHandle(url))
            ?? throw StepException.Permanent($"{platform} links are not supported by this installation.");
    }

    private static bool IsYouTube(string host, string[] path, Uri url)
    {
        if (host == "youtu.be")
        {
            return path.Length >= 1;
        }

        if (!IsHost(host, "youtube.com") && !IsHost(host, "youtube-nocookie.com"))
        {
            return false;
        }

        return (path is ["watch"] && HasQueryParameter(url, "v")) || path is ["shorts" or "live" or "embed" or "v", _, ..];
    }

    private static bool IsTikTok(string host, string[] path)
    {
        if (host is "vm.tiktok.com" or "vt.tiktok.com")
        {
            return path.Length >= 1;
        }

        return IsHost(host, "tiktok.com") && path switch
        {
            [var user, "video", _, ..] => user.StartsWith('@'),
            ["t" or "v", _, ..] => true,
            _ => false,
        };
    }

    private static bool IsInstagram(string host, string[] path) =>
        IsHost(host, "instagram.com") && path is ["reel" or "reels" or "p" or "tv", _, ..] or [_, "reel" or "p" or "tv", _, ..];

    private static bool IsFacebook(string host, string[] path, Uri url)
    {
        if (host == "fb.watch")
        {
            return path.Length >= 1;
        }

        if (!IsHost(host, "facebook.com") && !IsHost(host, "fb.com"))
        {
            return false;
        }

        var videosAt = Array.IndexOf(path, "videos");
        return (videosAt >= 0 && videosAt < path.Length - 1)
            || (path is ["watch", ..] && HasQueryParameter(url, "v"))
            || (path is ["video.php"] && HasQueryParameter(url, "v"))
            || path is ["reel", _, ..] or ["share", "v" or "r", _, ..];
    }

    private static bool IsX(string host, string[] path)
    {
        if (!IsHost(host, "x.com") && !IsHost(host, "twitter.com"))
        {
            return false;
        }

        var statusAt = Array.FindIndex(path, segment => segment is "status" or "statuses");
        return statusAt >= 0 && statusAt < path.Length - 1 && path[statusAt + 1].All(char.IsAsciiDigit);
    }

    private static bool IsVimeo(string host, string[] path)
    {
        if (host == "player.vimeo.com")
        {
            return path is ["video", var id, ..] && IsNumber(id);
        }

        return IsHost(host, "vimeo.com") && path switch
        {
            [var id, ..] when IsNumber(id) => true,
            ["channels", _, var id, ..] => IsNumber(id),
            ["groups", _, "videos", var id, ..] => IsNumber(id),
            _ => false,
        };
    }

    /// <summary>The domain itself or one of its subdomains ("m.youtube.com"), never a look-alike ("notyoutube.com").</summary>
    private static bool IsHost(string host, string domain) =>
        host == domain || host.EndsWith("." + domain, StringComparison.Ordinal);

    private static bool IsNumber(string text) => text.Length > 0 && text.All(char.IsAsciiDigit);

    private static bool HasQueryParameter(Uri url, string name) =>
        url.Query.TrimStart('?').Split('&').Any(pair => pair.StartsWith(name + "=", StringComparison.Ordinal) && pair.Length > name.Length + 1);
}
