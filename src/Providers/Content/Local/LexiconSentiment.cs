using System.Collections.Frozen;

namespace MediaActors.Providers.Content.Local;

/// <summary>The overall tone of a text: a label (positive, neutral, negative, mixed) and a score in [-1, 1].</summary>
internal sealed record SentimentResult(string Label, double Score, double Positive, double Negative);

/// <summary>
/// Lexicon sentiment: each opinion word has a weight; a negator within the three preceding words flips and damps it
/// ("not good" is negative, "not bad" mildly positive), an intensifier just before it strengthens it.
/// </summary>
internal static class LexiconSentiment
{
    public const string Positive = "positive";
    public const string Neutral = "neutral";
    public const string Negative = "negative";
    public const string Mixed = "mixed";

    private const int NegationScope = 3;
    private const double NegatedFactor = -0.75;

    private static readonly FrozenDictionary<string, double> Opinions = BuildOpinions();

    private static readonly FrozenSet<string> Negators = new[]
    {
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "hardly", "barely", "cannot",
        "aint", "arent", "cant", "couldnt", "didnt", "doesnt", "dont", "hadnt", "hasnt", "havent", "isnt", "shouldnt",
        "wasnt", "werent", "wont", "wouldnt",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, double> Intensifiers = new Dictionary<string, double>
    {
        ["very"] = 1.5, ["really"] = 1.4, ["so"] = 1.3, ["extremely"] = 1.8, ["incredibly"] = 1.8, ["super"] = 1.5,
        ["absolutely"] = 1.6, ["totally"] = 1.5, ["truly"] = 1.4, ["highly"] = 1.5, ["quite"] = 1.2, ["pretty"] = 1.2,
        ["most"] = 1.3, ["too"] = 1.2, ["slightly"] = 0.5, ["somewhat"] = 0.6, ["fairly"] = 0.8, ["bit"] = 0.6,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Words that end a negation's reach: "not only good but great" must not flip "great".</summary>
    private static readonly FrozenSet<string> ScopeBreakers = new[] { "but", "however", "although", "though", "yet", "only" }
        .ToFrozenSet(StringComparer.Ordinal);

    public static SentimentResult Score(IEnumerable<IReadOnlyList<string>> sentences)
    {
        double positive = 0, negative = 0;
        foreach (var words in sentences)
        {
            var negatedUntil = -1;
            for (var i = 0; i < words.Count; i++)
            {
                var word = words[i];
                if (IsNegator(word))
                {
                    negatedUntil = i + NegationScope;
                    continue;
                }

                if (ScopeBreakers.Contains(word))
                {
                    negatedUntil = -1;
                    continue;
                }

                if (!Opinions.TryGetValue(TextTokens.Fold(word), out var weight))
                {
                    continue;
                }

                for (var back = 1; back <= 2 && i - back >= 0; back++)
                {
                    if (Intensifiers.TryGetValue(words[i - back], out var factor))
                    {
                        weight *= factor;
                        break;
                    }
                }

                if (i <= negatedUntil)
                {
                    weight *= NegatedFactor;
                }

                if (weight > 0)
                {
                    positive += weight;
                }
                else
                {
                    negative -= weight;
                }
            }
        }

        return Label(positive, negative);
    }

    private static SentimentResult Label(double positive, double negative)
    {
        var total = positive + negative;
        if (total < 0.3)
        {
            return new SentimentResult(Neutral, 0, positive, negative);
        }

        var balance = (positive - negative) / total;

        // Few opinion words make a weak signal: "not good" alone scores about -0.5, a sustained tone approaches +/-1.
        var confidence = Math.Min(1.0, Math.Sqrt(total / 3.0));
        var score = Math.Round(Math.Clamp(balance * confidence, -1, 1), 3);
        if (positive >= 1 && negative >= 1 && Math.Abs(balance) < 0.35)
        {
            return new SentimentResult(Mixed, score, positive, negative);
        }

        var label = score >= 0.15 ? Positive : score <= -0.15 ? Negative : Neutral;
        return new SentimentResult(label, score, positive, negative);
    }

    private static bool IsNegator(string word) =>
        Negators.Contains(word) || word.EndsWith("n't", StringComparison.Ordinal);

    private static FrozenDictionary<string, double> BuildOpinions()
    {
        var opinions = new Dictionary<string, double>(StringComparer.Ordinal);
        Add(2.0, "excellent amazing awesome wonderful fantastic brilliant superb outstanding incredible terrific "
            + "perfect love loved loving delighted thrilled magnificent marvellous marvelous phenomenal exceptional");
        Add(1.5, "great best beautiful impressive impressed exciting excited enjoy enjoyed enjoying enjoyable happy glad "
            + "pleased grateful thankful proud inspiring inspired remarkable favourite favorite recommend recommended");
        Add(1.0, "good nice lovely fun success successful succeed succeeded win winning benefit beneficial helpful useful "
            + "valuable effective efficient reliable positive satisfied comfortable friendly smooth innovative elegant "
            + "affordable profitable achieve achieved achievement celebrate fortunately hopeful optimistic appreciate "
            + "appreciated wins gain cool clever powerful generous honest kindness");
        Add(0.5, "better improve improved improvement improving easy easier safe strong progress opportunity hope solid "
            + "accurate worth agree healthy thanks thank fine");
        Add(-2.0, "terrible awful horrible worst hate hated disaster catastrophe nightmare pathetic disgusting dreadful "
            + "atrocious abysmal furious");
        Add(-1.5, "disappointed disappointing disappointment angry sad miserable useless failure failed fail failing "
            + "broken dangerous painful toxic ridiculous stupid hopeless devastating tragic");
        Add(-1.0, "bad poor worse annoying annoyed frustrated frustrating unhappy upset boring confusing confused "
            + "wrong mess messy ugly waste wasted loss losing damage damaged crisis fear afraid scared worried worry "
            + "worrying stress stressful anxious anxiety unfortunately sadly regret mistake complaint complain unfair "
            + "unreliable unsafe struggle struggling threat hurt harmful dislike selfish cruel rude lazy greedy dishonest");
        Add(-0.5, "problem difficult expensive slow weak risk risky concern concerned decline declined lost sick "
            + "error crash conflict sorry tough");
        return opinions.ToFrozenDictionary(StringComparer.Ordinal);

        void Add(double weight, string words)
        {
            foreach (var word in words.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                opinions[TextTokens.Fold(word)] = weight;
            }
        }
    }
}
