namespace MediaActors.Providers.Content.Local;

/// <summary>
/// Picks keywords and two-word keyphrases: frequency times spread (how evenly a term occurs across the
/// transcript), with phrases preferred over their words when the words mostly occur inside the phrase.
/// </summary>
internal static class KeyphraseExtractor
{
    private const int Blocks = 10;
    private const double PhraseBonus = 1.5;

    /// <summary>How many topics a transcript of this many words deserves: 3 for a short one, up to 8.</summary>
    public static int TopicCount(int words) => Math.Clamp(3 + (words / 250), 3, 8);

    public static List<string> Extract(IReadOnlyList<TranscriptSentence> sentences, int max)
    {
        if (sentences.Count == 0 || max <= 0)
        {
            return [];
        }

        var blockCount = Math.Min(Blocks, sentences.Count);
        var terms = new Dictionary<string, Candidate>(StringComparer.Ordinal);
        var position = 0;
        var totalTerms = 0;
        for (var s = 0; s < sentences.Count; s++)
        {
            var block = s * blockCount / sentences.Count;
            var words = sentences[s].Words;
            string? previous = null;
            string? previousSurface = null;
            foreach (var word in words)
            {
                var folded = TextTokens.Fold(word);
                if (!IsTopicWord(word, folded))
                {
                    previous = null;
                    continue;
                }

                totalTerms++;
                Count(terms, folded, word, block, position++);
                if (previous is not null && previous != folded)
                {
                    Count(terms, previous + " " + folded, previousSurface + " " + word, block, position);
                }

                previous = folded;
                previousSurface = word;
            }
        }

        var minimumCount = totalTerms < 60 ? 1 : 2;
        var phrases = terms.Values.Where(c => c.IsPhrase && c.Count >= 2).ToList();

        // A word inside a recurring phrase only stands alone for the occurrences the phrase does not explain.
        var residual = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var candidate in terms.Values.Where(c => !c.IsPhrase))
        {
            residual[candidate.Key] = candidate.Count;
        }

        foreach (var phrase in phrases)
        {
            foreach (var part in phrase.Key.Split(' '))
            {
                residual[part] -= phrase.Count;
            }
        }

        var scored = new List<(Candidate Candidate, double Score)>();
        foreach (var candidate in terms.Values)
        {
            var count = candidate.IsPhrase ? candidate.Count : residual[candidate.Key];
            if (count < (candidate.IsPhrase ? 2 : minimumCount))
            {
                continue;
            }

            var spread = candidate.Blocks.Count / (double)blockCount;
            var score = count * (0.5 + (0.5 * spread)) * (candidate.IsPhrase ? PhraseBonus : 1.0);
            scored.Add((candidate, score));
        }

        var topics = new List<string>();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (candidate, _) in scored
            .OrderByDescending(x => x.Score).ThenBy(x => x.Candidate.FirstPosition).ThenBy(x => x.Candidate.Key, StringComparer.Ordinal))
        {
            if (topics.Count >= max)
            {
                break;
            }

            // Skip a phrase whose words are both topics already, and a word already shown inside a phrase.
            var parts = candidate.Key.Split(' ');
            if (candidate.IsPhrase ? parts.All(taken.Contains) : taken.Contains(candidate.Key))
            {
                continue;
            }

            topics.Add(candidate.Surface());
            taken.Add(candidate.Key);
            foreach (var part in parts)
            {
                taken.Add(part);
            }
        }

        return topics;
    }

    private static bool IsTopicWord(string word, string folded) =>
        folded.Length >= 3 && TextTokens.IsContentTerm(word, folded) && !TextTokens.IsNumber(word) && !word.Contains('\'');

    private static void Count(Dictionary<string, Candidate> terms, string key, string surface, int block, int position)
    {
        if (!terms.TryGetValue(key, out var candidate))
        {
            candidate = new Candidate(key, position);
            terms[key] = candidate;
        }

        candidate.Count++;
        candidate.Blocks.Add(block);
        candidate.Surfaces[surface] = candidate.Surfaces.GetValueOrDefault(surface) + 1;
    }

    private sealed class Candidate(string key, int firstPosition)
    {
        public string Key { get; } = key;

        public int FirstPosition { get; } = firstPosition;

        public bool IsPhrase { get; } = key.Contains(' ');

        public int Count { get; set; }

        public HashSet<int> Blocks { get; } = [];

        public Dictionary<string, int> Surfaces { get; } = new(StringComparer.Ordinal);

        /// <summary>The spelling used most often ("solar panels" rather than "solar panel"), ties to the shortest, then alphabetical.</summary>
        public string Surface() => Surfaces
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Length).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .First().Key;
    }
}
