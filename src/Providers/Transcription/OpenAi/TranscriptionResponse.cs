using System.Globalization;
using System.Text.Json;

namespace MediaActors.Providers.Transcription.OpenAi;

/// <summary>What one upload came back with, with times already made absolute.</summary>
internal sealed record ChunkTranscript(string Text, string? Language, IReadOnlyList<TranscriptSegment> Segments);

/// <summary>
/// Reads an OpenAI-compatible transcription response straight from its JSON: verbose_json (segments, top-level words),
/// diarized_json (segments with speaker), json (text only), and the variants of compatible servers (words inside
/// segments, a speaker field on segments or words). Unknown fields are ignored.
/// </summary>
internal static class TranscriptionResponse
{
    private const double Tolerance = 0.02;

    // verbose_json names the language in English ("english"); results keep ISO 639-1 codes like the local transcriber.
    private static readonly Dictionary<string, string> _languageCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["english"] = "en", ["german"] = "de", ["french"] = "fr", ["spanish"] = "es", ["italian"] = "it",
        ["portuguese"] = "pt", ["dutch"] = "nl", ["swedish"] = "sv", ["norwegian"] = "no", ["danish"] = "da",
        ["finnish"] = "fi", ["polish"] = "pl", ["czech"] = "cs", ["slovak"] = "sk", ["hungarian"] = "hu",
        ["romanian"] = "ro", ["bulgarian"] = "bg", ["greek"] = "el", ["turkish"] = "tr", ["russian"] = "ru",
        ["ukrainian"] = "uk", ["arabic"] = "ar", ["hebrew"] = "he", ["persian"] = "fa", ["hindi"] = "hi",
        ["bengali"] = "bn", ["urdu"] = "ur", ["tamil"] = "ta", ["chinese"] = "zh", ["japanese"] = "ja",
        ["korean"] = "ko", ["vietnamese"] = "vi", ["thai"] = "th", ["indonesian"] = "id", ["malay"] = "ms",
        ["catalan"] = "ca", ["croatian"] = "hr", ["serbian"] = "sr", ["slovenian"] = "sl", ["lithuanian"] = "lt",
        ["latvian"] = "lv", ["estonian"] = "et", ["welsh"] = "cy", ["irish"] = "ga", ["swahili"] = "sw",
        ["tagalog"] = "tl", ["afrikaans"] = "af",
    };

    /// <summary>
    /// Parses <paramref name="json"/>; every time is shifted by <paramref name="offset"/> and clamped to the chunk's
    /// window [offset, <paramref name="windowEnd"/>] so that neighbouring chunks never overlap. Text-only answers become
    /// one segment ending at the answer's duration, else at <paramref name="nominalEnd"/>.
    /// </summary>
    public static ChunkTranscript Parse(BinaryData json, double offset, double? windowEnd, double nominalEnd)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToMemory());
        }
        catch (JsonException e)
        {
            throw StepException.Permanent($"The transcription service returned a response that is not JSON ({e.Message}).");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw StepException.Permanent("The transcription service returned JSON that is not an object.");
            }

            double Shift(double t)
            {
                var absolute = offset + Math.Max(0, t);
                return windowEnd is { } end ? Math.Min(absolute, end) : absolute;
            }

            var text = GetString(root, "text")?.Trim() ?? "";
            var language = NormaliseLanguage(GetString(root, "language"));

            var words = new List<(double Start, double End, string Text, string? Speaker)>();
            if (root.TryGetProperty("words", out var topWords) && topWords.ValueKind == JsonValueKind.Array)
            {
                words.AddRange(ReadWords(topWords, Shift));
            }

            var segments = new List<(double Start, double End, string Text, string? Speaker, List<TranscriptWord> Words)>();
            if (root.TryGetProperty("segments", out var rawSegments) && rawSegments.ValueKind == JsonValueKind.Array)
            {
                foreach (var segment in rawSegments.EnumerateArray())
                {
                    if (segment.ValueKind != JsonValueKind.Object || GetDouble(segment, "start") is not { } start)
                    {
                        continue;
                    }

                    var end = GetDouble(segment, "end") ?? start;
                    var segmentText = GetString(segment, "text")?.Trim() ?? "";
                    var nested = segment.TryGetProperty("words", out var inner) && inner.ValueKind == JsonValueKind.Array
                        ? ReadWords(inner, Shift).Select(w => new TranscriptWord(w.Start, w.End, w.Text)).ToList()
                        : [];
                    segments.Add((Shift(start), Math.Max(Shift(start), Shift(end)), segmentText, GetSpeaker(segment), nested));
                }
            }

            segments.Sort((a, b) => a.Start.CompareTo(b.Start));
            words.Sort((a, b) => a.Start.CompareTo(b.Start));

            if (segments.Count == 0 && words.Count > 0)
            {
                // Only word timings came back: speaker turns (or all the words) become segments.
                segments = GroupBySpeaker(words)
                    .Select(turn => (turn[0].Start, turn[^1].End, string.Join(' ', turn.Select(w => w.Text)), turn[0].Speaker,
                        turn.Select(w => new TranscriptWord(w.Start, w.End, w.Text)).ToList()))
                    .ToList();
            }
            else if (words.Count > 0)
            {
                AssignWords(segments, words);
            }

            if (segments.Count == 0 && text.Length > 0)
            {
                // Text-only formats (json): one segment over the whole window.
                var end = GetDouble(root, "duration") is { } duration ? Shift(duration) : Math.Max(offset, nominalEnd);
                segments.Add((offset, end, text, null, []));
            }

            if (text.Length == 0)
            {
                text = string.Join(' ', segments.Select(s => s.Text).Where(t => t.Length > 0));
            }

            var result = segments
                .Where(s => s.Text.Length > 0 || s.Words.Count > 0)
                .Select(s => new TranscriptSegment(s.Start, s.End, s.Text, s.Speaker, s.Words.Count > 0 ? s.Words : null))
                .ToList();
            return new ChunkTranscript(text, language, result);
        }
    }

    /// <summary>"english" or "en" or "en-US" to "en"; unknown names are kept as given.</summary>
    public static string? NormaliseLanguage(string? language)
    {
        if (string.IsNullOrWhiteSpace(language))
        {
            return null;
        }

        language = language.Trim();
        if (_languageCodes.TryGetValue(language, out var code))
        {
            return code;
        }

        var dash = language.IndexOfAny(['-', '_']);
        return (dash > 0 ? language[..dash] : language).ToLowerInvariant();
    }

    private static List<(double Start, double End, string Text, string? Speaker)> ReadWords(JsonElement array, Func<double, double> shift)
    {
        var words = new List<(double, double, string, string?)>();
        foreach (var word in array.EnumerateArray())
        {
            if (word.ValueKind != JsonValueKind.Object || GetDouble(word, "start") is not { } start)
            {
                continue;
            }

            var text = (GetString(word, "word") ?? GetString(word, "text"))?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }

            var end = GetDouble(word, "end") ?? start;
            words.Add((shift(start), Math.Max(shift(start), shift(end)), text, GetSpeaker(word)));
        }

        return words;
    }

    private static List<List<(double Start, double End, string Text, string? Speaker)>> GroupBySpeaker(
        List<(double Start, double End, string Text, string? Speaker)> words)
    {
        var turns = new List<List<(double Start, double End, string Text, string? Speaker)>>();
        foreach (var word in words)
        {
            if (turns.Count == 0 || turns[^1][0].Speaker != word.Speaker)
            {
                turns.Add([]);
            }

            turns[^1].Add(word);
        }

        return turns;
    }

    // Top-level words (verbose_json) belong to the segment whose time span holds them; a word between segments goes to the earlier one.
    private static void AssignWords(
        List<(double Start, double End, string Text, string? Speaker, List<TranscriptWord> Words)> segments,
        List<(double Start, double End, string Text, string? Speaker)> words)
    {
        if (segments.Count == 0)
        {
            return;
        }

        foreach (var segment in segments)
        {
            segment.Words.Clear();
        }

        var speakers = segments.Select(_ => new List<string>()).ToArray();
        var index = 0;
        foreach (var word in words)
        {
            var middle = (word.Start + word.End) / 2;
            while (index + 1 < segments.Count && segments[index + 1].Start <= middle + Tolerance && middle > segments[index].End - Tolerance)
            {
                index++;
            }

            segments[index].Words.Add(new TranscriptWord(word.Start, word.End, word.Text));
            if (word.Speaker is not null)
            {
                speakers[index].Add(word.Speaker);
            }
        }

        // Servers that label words but not segments: a segment takes the speaker of most of its words.
        for (var i = 0; i < segments.Count; i++)
        {
            if (segments[i].Speaker is null && speakers[i].Count > 0)
            {
                segments[i] = segments[i] with { Speaker = speakers[i].GroupBy(s => s).MaxBy(g => g.Count())!.Key };
            }
        }
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double? GetDouble(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetDouble(out var number) && double.IsFinite(number) => number,
            JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed) => parsed,
            _ => null,
        };
    }

    private static string? GetSpeaker(JsonElement element)
    {
        foreach (var name in new[] { "speaker", "speaker_label", "speaker_id" })
        {
            if (element.TryGetProperty(name, out var value))
            {
                var speaker = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString()?.Trim(),
                    JsonValueKind.Number => value.GetRawText(),
                    _ => null,
                };
                if (!string.IsNullOrEmpty(speaker))
                {
                    return speaker;
                }
            }
        }

        return null;
    }
}
