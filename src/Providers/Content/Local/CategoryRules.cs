using System.Collections.Frozen;

namespace MediaActors.Providers.Content.Local;

/// <summary>
/// Assigns one category from a fixed set by counting keywords of each category (sublinear per keyword, so one
/// repeated word cannot decide alone); title words count double. Too little evidence gives "other".
/// </summary>
internal static class CategoryRules
{
    public const string Other = "other";

    /// <summary>The categories in tie-break order.</summary>
    public static readonly IReadOnlyList<string> Categories =
        ["technology", "business", "education", "health", "science", "entertainment", "sports", "politics", "lifestyle", Other];

    private const double MinimumEvidence = 2.0;

    private static readonly FrozenDictionary<string, string> KeywordCategory = Build(new Dictionary<string, string>
    {
        ["technology"] = "technology tech software hardware computer computing app apps code coding programming programmer "
            + "developer developers algorithm internet online website web digital cloud server database network "
            + "smartphone phone device chip processor laptop robot robotics automation ai artificial engineering "
            + "engineer gadget api linux android iphone blockchain crypto cybersecurity encryption browser startup "
            + "battery solar electric electricity inverter charger charging sensor semiconductor machine",
        ["business"] = "business company market marketing customer client sale revenue profit investor investment "
            + "invest finance financial money price pricing budget cost economy economic stock brand product strategy "
            + "management manager ceo entrepreneur deal contract industry employee hiring bank fund funding dollar "
            + "shareholder sell selling buyer supplier growth quarter quarterly commercial enterprise",
        ["education"] = "school student teacher teaching learn learning lesson course class classroom university college "
            + "study studying education educational exam homework lecture professor curriculum degree knowledge "
            + "tutorial training skill academic grade pupil teach textbook",
        ["health"] = "health healthy doctor patient hospital medical medicine disease treatment therapy symptom diet "
            + "nutrition sleep mental depression vaccine virus cancer heart blood drug clinic nurse surgery wellness "
            + "calorie protein illness infection pain injury diabetes",
        ["science"] = "science scientific scientist research researcher experiment theory physics chemistry biology "
            + "molecule atom cell gene genetic dna evolution planet space universe star galaxy climate species energy "
            + "particle quantum laboratory lab hypothesis telescope earth ocean carbon temperature mathematics math "
            + "equation orbit fossil",
        ["entertainment"] = "movie film music song album band singer actor actress show episode series celebrity concert "
            + "festival comedy comedian drama theater theatre netflix hollywood trailer character fan artist dance "
            + "television tv streaming anime novel gaming gamer",
        ["sports"] = "sport football soccer basketball baseball tennis golf hockey cricket rugby team player coach match "
            + "game season league championship tournament score goal athlete olympic race racing stadium medal "
            + "referee quarterback striker playoff finals",
        ["politics"] = "politics political government president election vote voter voting democrat republican congress "
            + "senate parliament minister policy law legislation campaign candidate democracy war military court "
            + "immigration tax citizen protest diplomat sanction governor mayor",
        ["lifestyle"] = "food recipe cooking cook kitchen restaurant travel trip vacation hotel fashion style clothes "
            + "beauty makeup home house garden gardening family parenting relationship wedding pet dog cat hobby decor "
            + "coffee wine yoga meditation routine lifestyle shopping holiday bake baking",
    });

    public static string Classify(IEnumerable<string> foldedTerms, IEnumerable<string> foldedTitleTerms)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var term in foldedTerms)
        {
            if (KeywordCategory.ContainsKey(term))
            {
                counts[term] = counts.GetValueOrDefault(term) + 1;
            }
        }

        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (keyword, count) in counts)
        {
            var category = KeywordCategory[keyword];
            scores[category] = scores.GetValueOrDefault(category) + 1 + Math.Log(count);
        }

        foreach (var term in foldedTitleTerms.Distinct(StringComparer.Ordinal))
        {
            if (KeywordCategory.TryGetValue(term, out var category))
            {
                scores[category] = scores.GetValueOrDefault(category) + 2;
            }
        }

        var best = Other;
        var bestScore = MinimumEvidence - 1e-9;
        foreach (var category in Categories)
        {
            var score = scores.GetValueOrDefault(category);
            if (score > bestScore)
            {
                best = category;
                bestScore = score;
            }
        }

        return best;
    }

    private static FrozenDictionary<string, string> Build(Dictionary<string, string> keywords)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var category in Categories)
        {
            if (!keywords.TryGetValue(category, out var words))
            {
                continue;
            }

            foreach (var word in words.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                // The first category to claim a word keeps it, so the lists stay unambiguous.
                map.TryAdd(TextTokens.Fold(word), category);
            }
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
