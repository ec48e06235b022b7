using System.Collections.Frozen;
using System.Text;
using MediaActors.Providers.Transcription;

namespace MediaActors.Providers.Content.Local;

/// <summary>A sentence of a transcript as the extractive generator sees it: display text, timing, words and content terms.</summary>
internal sealed record TranscriptSentence(int Index, string Text, double Start, double End, IReadOnlyList<string> Words, IReadOnlyList<string> Terms);

/// <summary>The sentences of a transcript; <see cref="HasTimings"/> is false when the provider gave no segment times.</summary>
internal sealed record TranscriptText(IReadOnlyList<TranscriptSentence> Sentences, bool HasTimings, bool Punctuated)
{
    public int WordCount => Sentences.Sum(s => s.Words.Count);
}

/// <summary>
/// Forms sentences from a transcript. Punctuated text (OpenAI) is split at sentence ends; unpunctuated
/// lower-case text (pocketsphinx) is cut from segments, short segments merged and long ones split at
/// about <see cref="TargetWords"/> words, preferably before a word that opens a clause.
/// </summary>
internal static class TranscriptSentences
{
    public const int TargetWords = 22;
    public const int MaxUnpunctuatedWords = 30;
    public const int MaxPunctuatedWords = 45;
    private const int MinSentenceWords = 5;
    private const int MinChunkWords = 12;

    private static readonly FrozenSet<string> Abbreviations = new[]
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "u.s", "u.k", "jr", "sr", "inc", "ltd",
        "co", "no", "approx", "fig", "mt", "ft",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Hesitation sounds some recognisers write out; in unpunctuated text they are dropped, not quoted.</summary>
    private static readonly FrozenSet<string> Fillers = new[] { "um", "umm", "uh", "uhh", "uhm", "erm", "er", "hmm", "mm", "mhm" }
        .ToFrozenSet(StringComparer.Ordinal);

    public static TranscriptText Split(Transcript transcript)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        var spans = new List<Span>();
        foreach (var segment in transcript.Segments ?? [])
        {
            var text = TextTokens.Clean(segment.Text);
            if (text.Length > 0)
            {
                spans.Add(new Span(text, segment.Start, Math.Max(segment.Start, segment.End)));
            }
        }

        if (spans.Count == 0)
        {
            var text = TextTokens.Clean(transcript.Text);
            if (text.Length > 0)
            {
                spans.Add(new Span(text, 0, 0));
            }
        }

        var hasTimings = spans.Any(s => s.End > 0);
        var punctuated = IsPunctuated(spans);
        var pieces = punctuated ? SplitPunctuated(spans) : SplitUnpunctuated(spans);

        var sentences = new List<TranscriptSentence>(pieces.Count);
        foreach (var piece in pieces)
        {
            var text = Finish(piece.Text, capitaliseI: !punctuated);
            var words = TextTokens.Words(text);
            if (words.Count == 0)
            {
                continue;
            }

            sentences.Add(new TranscriptSentence(sentences.Count, text, piece.Start, piece.End, words, TextTokens.ContentTerms(text)));
        }

        return new TranscriptText(sentences, hasTimings, punctuated);
    }

    /// <summary>Text counts as punctuated when it has at least one sentence end per 50 words.</summary>
    private static bool IsPunctuated(List<Span> spans)
    {
        int words = 0, ends = 0;
        foreach (var span in spans)
        {
            var text = span.Text;
            for (var i = 0; i < text.Length; i++)
            {
                if (!char.IsWhiteSpace(text[i]) && (i == 0 || char.IsWhiteSpace(text[i - 1])))
                {
                    words++;
                }

                if (text[i] is '.' or '!' or '?' && (i + 1 == text.Length || char.IsWhiteSpace(text[i + 1]) || text[i + 1] is '"' or '\'' or ')'))
                {
                    ends++;
                }
            }
        }

        return ends > 0 && ends * 50 >= words;
    }

    private static List<Span> SplitPunctuated(List<Span> spans)
    {
        var stream = new StringBuilder();
        var offsets = new List<int>(spans.Count);
        foreach (var span in spans)
        {
            if (stream.Length > 0)
            {
                stream.Append(' ');
            }

            offsets.Add(stream.Length);
            stream.Append(span.Text);
        }

        var text = stream.ToString();
        var pieces = new List<Span>();
        var sentenceStart = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is not ('.' or '!' or '?'))
            {
                continue;
            }

            var end = i + 1;
            while (end < text.Length && text[end] is '.' or '!' or '?' or '"' or '\'' or ')' or '\u201d')
            {
                end++;
            }

            if (end < text.Length && !char.IsWhiteSpace(text[end]))
            {
                continue;
            }

            var next = end;
            while (next < text.Length && char.IsWhiteSpace(text[next]))
            {
                next++;
            }

            var opensSentence = next == text.Length || !char.IsLetter(text[next]) || char.IsUpper(text[next]);
            if (!opensSentence || (text[i] == '.' && EndsWithAbbreviation(text, sentenceStart, i)))
            {
                i = end - 1;
                continue;
            }

            AddSentence(text[sentenceStart..end], sentenceStart);
            sentenceStart = next;
            i = next - 1;
        }

        if (sentenceStart < text.Length)
        {
            AddSentence(text[sentenceStart..], sentenceStart);
        }

        return pieces;

        void AddSentence(string sentence, int at)
        {
            sentence = sentence.Trim();
            if (sentence.Length == 0)
            {
                return;
            }

            var words = sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var start = TimeAt(at);
            var finish = TimeAt(at + sentence.Length);
            pieces.AddRange(Chunk(words, start, finish, MaxPunctuatedWords));
        }

        double TimeAt(int position)
        {
            var index = offsets.BinarySearch(position);
            if (index < 0)
            {
                index = Math.Max(0, ~index - 1);
            }

            var span = spans[index];
            var into = Math.Clamp((position - offsets[index]) / (double)Math.Max(1, span.Text.Length), 0, 1);
            return span.Start + ((span.End - span.Start) * into);
        }
    }

    private static bool EndsWithAbbreviation(string text, int from, int dot)
    {
        var wordStart = dot;
        while (wordStart > from && !char.IsWhiteSpace(text[wordStart - 1]))
        {
            wordStart--;
        }

        var word = text[wordStart..dot].TrimStart('(', '"', '\'').ToLowerInvariant();
        return Abbreviations.Contains(word) || (word.Length == 1 && char.IsLetter(word[0]));
    }

    private static List<Span> SplitUnpunctuated(List<Span> spans)
    {
        // Recogniser segments end at pauses: a pause of one or two words ("so", "um okay") joins the next segment.
        var merged = new List<(List<string> Words, double Start, double End)>();
        foreach (var span in spans)
        {
            var words = span.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !Fillers.Contains(w)).ToList();
            if (words.Count == 0)
            {
                continue;
            }

            if (merged.Count > 0 && merged[^1].Words.Count < MinSentenceWords)
            {
                var last = merged[^1];
                last.Words.AddRange(words);
                merged[^1] = (last.Words, last.Start, span.End);
            }
            else
            {
                merged.Add((words, span.Start, span.End));
            }
        }

        // A short last piece ("thanks for watching") joins the previous one only if that keeps a sentence-sized run.
        if (merged.Count > 1 && merged[^1].Words.Count < MinSentenceWords && merged[^1].Words.Count + merged[^2].Words.Count <= MaxUnpunctuatedWords)
        {
            var tail = merged[^1];
            merged.RemoveAt(merged.Count - 1);
            var last = merged[^1];
            last.Words.AddRange(tail.Words);
            merged[^1] = (last.Words, last.Start, tail.End);
        }

        var pieces = new List<Span>();
        foreach (var (words, start, end) in merged)
        {
            pieces.AddRange(Chunk([.. words], start, end, MaxUnpunctuatedWords));
        }

        return pieces;
    }

    /// <summary>Splits a run longer than <paramref name="maxWords"/> into balanced chunks of about <see cref="TargetWords"/> words.</summary>
    internal static List<Span> Chunk(string[] words, double start, double end, int maxWords)
    {
        var chunks = new List<Span>();
        var n = words.Length;
        var position = 0;
        while (n - position > maxWords)
        {
            var remaining = n - position;
            var parts = (int)Math.Ceiling(remaining / (double)TargetWords);
            var target = position + (int)Math.Round(remaining / (double)parts, MidpointRounding.AwayFromZero);
            var lower = Math.Max(position + MinChunkWords, target - 6);
            var upper = Math.Min(Math.Min(position + maxWords, target + 6), n - MinChunkWords);
            var best = Math.Clamp(target, position + 1, n - 1);
            var bestScore = double.NegativeInfinity;
            for (var cut = lower; cut <= upper; cut++)
            {
                var score = -0.15 * Math.Abs(cut - target);
                if (words[cut - 1].EndsWith(',') || words[cut - 1].EndsWith(';') || words[cut - 1].EndsWith(':'))
                {
                    score += 3;
                }

                var opener = words[cut].Trim('"', '\'', '(').ToLowerInvariant();
                if (EnglishLexicon.ClauseOpeners.TryGetValue(opener, out var weight))
                {
                    score += weight;
                }

                if (score > bestScore)
                {
                    bestScore = score;
                    best = cut;
                }
            }

            chunks.Add(ChunkSpan(position, best));
            position = best;
        }

        chunks.Add(ChunkSpan(position, n));
        return chunks;

        Span ChunkSpan(int from, int to) => new(
            string.Join(' ', words[from..to]),
            start + ((end - start) * from / Math.Max(1, n)),
            start + ((end - start) * to / Math.Max(1, n)));
    }

    /// <summary>Makes a piece read as a sentence: capital first letter, closing full stop, and "I" in lower-case text.</summary>
    internal static string Finish(string text, bool capitaliseI)
    {
        text = text.Trim().TrimEnd(',', ';', ':', '-', '\u2014').TrimEnd();
        if (text.Length == 0)
        {
            return text;
        }

        if (capitaliseI && !text.Any(char.IsUpper))
        {
            var words = text.Split(' ');
            for (var i = 0; i < words.Length; i++)
            {
                if (words[i] == "i" || words[i].StartsWith("i'", StringComparison.Ordinal))
                {
                    words[i] = "I" + words[i][1..];
                }
            }

            text = string.Join(' ', words);
        }

        var first = 0;
        while (first < text.Length && !char.IsLetterOrDigit(text[first]))
        {
            first++;
        }

        if (first < text.Length && char.IsLower(text[first]))
        {
            text = string.Concat(text.AsSpan(0, first), char.ToUpperInvariant(text[first]).ToString(), text.AsSpan(first + 1));
        }

        var last = text[^1];
        return last is '.' or '!' or '?' or '"' or '\'' or ')' or '\u201d' ? text : text + ".";
    }

    internal sealed record Span(string Text, double Start, double End);
}
