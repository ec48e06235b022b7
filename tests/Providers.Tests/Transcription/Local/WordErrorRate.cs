namespace MediaActors.Providers.Tests.Transcription.Local;

/// <summary>Word error rate: word-level Levenshtein distance over the number of reference words, after normalising both texts.</summary>
public static class WordErrorRate
{
    // pocketsphinx's dictionary spells these abbreviated; the LibriVox references spell them out.
    private static readonly Dictionary<string, string> _spellings = new(StringComparer.Ordinal)
    {
        ["mr"] = "mister",
        ["mrs"] = "missus",
        ["dr"] = "doctor",
    };

    public static double Of(string reference, string hypothesis) => Of(Normalize(reference), Normalize(hypothesis));

    public static double Of(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis) =>
        reference.Count == 0 ? (hypothesis.Count == 0 ? 0 : 1) : (double)Distance(reference, hypothesis) / reference.Count;

    /// <summary>Lower case, letters, digits and apostrophes only, sentence markers (&lt;s&gt;) dropped, abbreviations spelled out.</summary>
    public static IReadOnlyList<string> Normalize(string text) => text
        .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
        .Where(w => !w.StartsWith('<'))
        .Select(w => new string(w.ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c == '\'').ToArray()))
        .Where(w => w.Length > 0)
        .Select(w => _spellings.GetValueOrDefault(w, w))
        .ToList();

    /// <summary>Substitutions + insertions + deletions that turn the hypothesis into the reference.</summary>
    public static int Distance(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis)
    {
        var previous = Enumerable.Range(0, hypothesis.Count + 1).ToArray();
        var current = new int[hypothesis.Count + 1];
        for (var i = 1; i <= reference.Count; i++)
        {
            current[0] = i;
            for (var j = 1; j <= hypothesis.Count; j++)
            {
                var substitution = previous[j - 1] + (reference[i - 1] == hypothesis[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[hypothesis.Count];
    }
}
