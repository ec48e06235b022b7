using System.Text;

namespace MediaActors.Providers.Google;

/// <summary>YouTube's rules for video metadata, and making generated text (titles, summaries, file names) fit them.</summary>
public static class YouTubeText
{
    public const int MaxTitle = 100;
    public const int MaxDescription = 5000;

    /// <summary>All tags together, counting a separator per tag.</summary>
    public const int MaxTagsChars = 500;

    public static readonly IReadOnlyList<string> Privacies = ["private", "unlisted", "public"];

    /// <summary>No angle brackets or control characters (newlines and tabs kept), trimmed, cut at <paramref name="max"/>.</summary>
    public static string Clean(string? text, int max)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        var builder = new StringBuilder(text.Length);
        foreach (var c in text.Trim())
        {
            builder.Append(c is '<' or '>' || (char.IsControl(c) && c is not ('\n' or '\t')) ? ' ' : c);
        }

        var cleaned = builder.ToString();
        return cleaned.Length > max ? cleaned[..max].TrimEnd() : cleaned;
    }

    /// <summary>A title from a file name: its name without extension, cleaned; "Untitled video" when nothing is left.</summary>
    public static string TitleFromFileName(string fileName) =>
        Clean(Path.GetFileNameWithoutExtension(fileName), MaxTitle) is { Length: > 0 } title ? title : "Untitled video";

    /// <summary>The tags, cleaned, as many as fit in <see cref="MaxTagsChars"/>.</summary>
    public static List<string> FitTags(IEnumerable<string> tags)
    {
        var fitted = new List<string>();
        var total = 0;
        foreach (var tag in tags.Select(t => Clean(t, 100)).Where(t => t.Length > 0))
        {
            if (total + tag.Length + 1 > MaxTagsChars)
            {
                break;
            }

            fitted.Add(tag);
            total += tag.Length + 1;
        }

        return fitted;
    }
}
