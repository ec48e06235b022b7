using System.Collections.Frozen;
using System.Text;

namespace MediaActors.Providers.Search.Local;

/// <summary>
/// The text-to-feature rules of hashed-tfidf-v1. Vectors made with them are stored in the database, so these rules
/// (word lists included) are frozen: any change needs a new model name, and they are deliberately not shared with
/// the content generator's lexicon, which may be tuned freely.
/// </summary>
internal static class HashedTfIdfFeatures
{
    private const ulong FnvOffsetBasis = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;
    private const int MaxMarkupLength = 24;

    private static readonly FrozenSet<string> StopWords = Set("""
        a about above after again against all also although am an and any are around as at be because been before
        being below between both but by can could did do does doing down during each either else even ever every
        few for from further had has have having he her here hers herself him himself his how however i if in into
        is it its itself just let me might more most much must my myself neither no nor not now of off on once only
        onto or other our ours ourselves out over own per quite rather same shall she should since so some such than
        that the their theirs them themselves then there these they this those though through thus to too under
        until up upon us very was we well were what when where whether which while who whom whose why will with
        within without would yet you your yours yourself yourselves
        aint arent cant couldnt didnt doesnt dont hadnt hasnt havent hes id ill im isnt ive lets shes shouldnt
        thats theres theyd theyll theyre theyve wasnt wed were weve werent whats wont wouldnt youd youll youre youve
        um umm uh uhm erm er ah oh hmm mm mhm yeah yep okay ok alright like actually basically literally really
        gonna wanna gotta kinda sorta
        """);

    /// <summary>Frequent content words: kept, at half weight, a fixed stand-in for a low inverse document frequency.</summary>
    private static readonly FrozenSet<string> CommonWords = Set("""
        thing things stuff lot way get got go going went make made know think mean say said see look want need come
        take give use used try call keep seem feel start find show happen work good great bad big small little new
        old different same right real time day year people person today first last next one two three many something
        anything everything nothing someone everyone always never often sometimes maybe probably sure yes
        """);

    /// <summary>Folded content words in text order: lower case, letters and digits, recogniser markup and stop words removed.</summary>
    public static List<string> Tokens(string? text)
    {
        var tokens = new List<string>();
        if (string.IsNullOrEmpty(text))
        {
            return tokens;
        }

        var current = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '<' or '[' && SkipMarkup(text, i, c == '<' ? '>' : ']') is var end and > 0)
            {
                Flush();
                i = end;
            }
            else if (char.IsLetterOrDigit(c))
            {
                current.Append(FoldAccent(char.ToLowerInvariant(c)));
            }
            else if (c is '\'' or '\u2019' || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.NonSpacingMark)
            {
                // Apostrophes join (don't -> dont); combining accents are dropped like folded precomposed ones.
            }
            else
            {
                Flush();
            }
        }

        Flush();
        return tokens;

        void Flush()
        {
            if (current.Length == 0)
            {
                return;
            }

            var word = current.ToString();
            current.Clear();
            if (!StopWords.Contains(word))
            {
                tokens.Add(Fold(word));
            }
        }
    }

    /// <summary>Inverse-document-frequency stand-in: common words and very short words count less.</summary>
    public static double WordWeight(string word)
    {
        var weight = CommonWords.Contains(word) ? 0.5 : 1.0;
        if (word.Length <= 2)
        {
            weight *= 0.6;
        }
        else if (word.Length == 3)
        {
            weight *= 0.8;
        }

        return word.All(char.IsDigit) ? weight * 0.7 : weight;
    }

    /// <summary>Character trigrams of a word padded with ^ and $, so a misrecognised word still shares most of its features.</summary>
    public static IEnumerable<string> Trigrams(string word)
    {
        var padded = "^" + word + "$";
        for (var i = 0; i + 3 <= padded.Length; i++)
        {
            yield return padded.Substring(i, 3);
        }
    }

    /// <summary>The feature's hash: 64-bit FNV-1a, then a murmur-style avalanche so that every output bit (bucket and sign) depends on every input bit.</summary>
    public static ulong Hash(string feature)
    {
        var hash = Fnv1a(feature);
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash;
    }

    /// <summary>64-bit FNV-1a over the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static ulong Fnv1a(string text)
    {
        var hash = FnvOffsetBasis;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= FnvPrime;
        }

        return hash;
    }

    /// <summary>Plural and possessive folding: "batteries" and "battery" are one feature.</summary>
    public static string Fold(string word)
    {
        if (word.Length <= 3)
        {
            return word;
        }

        if (word.EndsWith("ies", StringComparison.Ordinal) && word.Length > 4)
        {
            return word[..^3] + "y";
        }

        if (word.EndsWith("sses", StringComparison.Ordinal) || word.EndsWith("xes", StringComparison.Ordinal)
            || word.EndsWith("ches", StringComparison.Ordinal) || word.EndsWith("shes", StringComparison.Ordinal))
        {
            return word[..^2];
        }

        if (word.EndsWith("ss", StringComparison.Ordinal) || word.EndsWith("us", StringComparison.Ordinal)
            || word.EndsWith("is", StringComparison.Ordinal))
        {
            return word;
        }

        return word.EndsWith('s') ? word[..^1] : word;
    }

    private static int SkipMarkup(string text, int start, char close)
    {
        var limit = Math.Min(text.Length, start + MaxMarkupLength);
        for (var i = start + 1; i < limit; i++)
        {
            if (text[i] == close)
            {
                return i;
            }
        }

        return -1;
    }

    private static char FoldAccent(char c) => c switch
    {
        'à' or 'á' or 'â' or 'ã' or 'ä' or 'å' => 'a',
        'ç' => 'c',
        'è' or 'é' or 'ê' or 'ë' => 'e',
        'ì' or 'í' or 'î' or 'ï' => 'i',
        'ñ' => 'n',
        'ò' or 'ó' or 'ô' or 'õ' or 'ö' => 'o',
        'ù' or 'ú' or 'û' or 'ü' => 'u',
        'ý' or 'ÿ' => 'y',
        _ => c,
    };

    private static FrozenSet<string> Set(string words) =>
        words.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.Ordinal);
}
