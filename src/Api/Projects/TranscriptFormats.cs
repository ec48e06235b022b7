using System.Globalization;
using System.Text;
using MediaActors.Providers.Transcription;

namespace MediaActors.Api.Projects;

/// <summary>Subtitle renderings of a transcript.</summary>
public static class TranscriptFormats
{
    public static string Srt(IReadOnlyList<TranscriptSegment> segments)
    {
        var text = new StringBuilder();
        var index = 1;
        foreach (var segment in segments.Where(s => !string.IsNullOrWhiteSpace(s.Text)))
        {
            text.Append(index++).Append('\n')
                .Append(Time(segment.Start, ',')).Append(" --> ").Append(Time(segment.End, ',')).Append('\n')
                .Append(Line(segment)).Append("\n\n");
        }

        return text.ToString();
    }

    public static string Vtt(IReadOnlyList<TranscriptSegment> segments)
    {
        var text = new StringBuilder("WEBVTT\n\n");
        foreach (var segment in segments.Where(s => !string.IsNullOrWhiteSpace(s.Text)))
        {
            text.Append(Time(segment.Start, '.')).Append(" --> ").Append(Time(segment.End, '.')).Append('\n')
                .Append(segment.Speaker is { } speaker ? $"<v {speaker}>" : "").Append(segment.Text.Trim().Replace("-->", "->", StringComparison.Ordinal)).Append("\n\n");
        }

        return text.ToString();
    }

    /// <summary>
    /// Markdown: one paragraph per turn, a bold [mm:ss] (or [h:mm:ss]) stamp and the speaker when it changes; Markdown
    /// characters in the spoken text are escaped so a transcript never renders as markup it did not say.
    /// </summary>
    public static string Markdown(IReadOnlyList<TranscriptSegment> segments)
    {
        var text = new StringBuilder("# Transcript\n\n");
        string? speaker = null;
        foreach (var segment in segments.Where(s => !string.IsNullOrWhiteSpace(s.Text)))
        {
            var span = TimeSpan.FromSeconds(Math.Max(0, Math.Floor(segment.Start)));
            var stamp = span.TotalHours >= 1
                ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}")
                : string.Create(CultureInfo.InvariantCulture, $"{span.Minutes:00}:{span.Seconds:00}");
            text.Append("**[").Append(stamp).Append("]**");
            if (segment.Speaker is { } who && who != speaker)
            {
                text.Append(" **").Append(EscapeMarkdown(who)).Append(":**");
            }

            speaker = segment.Speaker ?? speaker;
            text.Append(' ').Append(EscapeMarkdown(segment.Text.Trim())).Append("\n\n");
        }

        return text.ToString();
    }

    private static string EscapeMarkdown(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if ("\\`*_[]<>#|~".Contains(c))
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    private static string Line(TranscriptSegment segment) =>
        (segment.Speaker is { } speaker ? $"{speaker}: " : "") + segment.Text.Trim();

    /// <summary>hh:mm:ss,mmm (SRT) or hh:mm:ss.mmm (WebVTT).</summary>
    public static string Time(double seconds, char separator)
    {
        var span = TimeSpan.FromMilliseconds(Math.Round(Math.Max(0, seconds) * 1000));
        return string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours:00}:{span.Minutes:00}:{span.Seconds:00}{separator}{span.Milliseconds:000}");
    }
}
