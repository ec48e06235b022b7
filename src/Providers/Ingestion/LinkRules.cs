namespace MediaActors.Providers.Ingestion;

/// <summary>What a link must look like before anything connects to it: the same rules for the user's link and for every redirect.</summary>
public static class LinkRules
{
    public const int MaxLength = 2048;

    /// <summary>Parses and validates a user's link; throws a permanent <see cref="StepException"/> that says what is wrong.</summary>
    public static Uri Parse(string? link)
    {
        var text = link?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            throw StepException.Permanent("The link is empty.");
        }

        if (text.Length > MaxLength)
        {
            throw StepException.Permanent($"The link is longer than {MaxLength} characters.");
        }

        // On Linux "/path" parses as an absolute file: URI, so the scheme check below is what rejects it.
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw StepException.Permanent("The link is not a valid absolute URL (it must start with http:// or https:// and a host name).");
        }

        Validate(uri);
        return uri;
    }

    /// <summary>Checks an already parsed URL (a link or a redirect target).</summary>
    public static void Validate(Uri uri)
    {
        if (!TryValidate(uri, out var problem))
        {
            throw StepException.Permanent(problem);
        }
    }

    /// <summary>Checks an already parsed URL; <paramref name="problem"/> says what is wrong when false.</summary>
    public static bool TryValidate(Uri uri, out string problem)
    {
        if (!uri.IsAbsoluteUri)
        {
            problem = "The link is not an absolute URL.";
            return false;
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            problem = $"Only http and https links are supported, not '{Printable(uri.Scheme)}:'.";
            return false;
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            problem = "The link has no host name.";
            return false;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            problem = "Links with a user name or password (user@host) are not supported.";
            return false;
        }

        if (uri.OriginalString.Length > MaxLength || uri.AbsoluteUri.Length > MaxLength)
        {
            problem = $"The link is longer than {MaxLength} characters.";
            return false;
        }

        problem = "";
        return true;
    }

    /// <summary>"https://host:port" of a URL: what messages show, since paths and queries may carry tokens.</summary>
    public static string Origin(Uri uri) =>
        uri.IsAbsoluteUri ? $"{uri.Scheme}://{uri.Authority}" : "(relative link)";

    private static string Printable(string text)
    {
        var clean = new string(text.Where(c => !char.IsControl(c)).Take(20).ToArray());
        return clean.Length == 0 ? "?" : clean;
    }
}
