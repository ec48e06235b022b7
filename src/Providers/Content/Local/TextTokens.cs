using System.Text;
using System.Text.RegularExpressions;

namespace MediaActors.Providers.Content.Local;

/// <summary>Word-level text handling shared by the extractive generator: cleaning, tokenising and plural folding.</summary>
internal static partial class TextTokens
{
    /// <summary>Recogniser markup such as &lt;sil&gt;, [NOISE] or the alternate-pronunciation suffix "(2)".</summary>
    [GeneratedRegex(@"<[^>]*>|\[[^\]]*\]|\(\d+\)")]
    private static partial Regex RecognizerMarkup();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>Removes recogniser markup, unifies apostrophes and collapses whitespace.</summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return string.Empty;
        }

        var unified = text.Replace('\u2019', '\'').Replace('\u2018', '\'');
        return Whitespace().Replace(RecognizerMarkup().Replace(unified, " "), " ").Trim();
    }

    /// <summary>Lower-case words made of letters and digits, keeping an apostrophe inside a word (don't, it's).</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsLetterOrDigit(c))
            {
                current.Append(FoldAccent(char.ToLowerInvariant(c)));
            }
            else if ((c == '\'' || c == '\u2019') && current.Length > 0 && i + 1 < text.Length && char.IsLetter(text[i + 1]))
            {
                current.Append('\'');
            }
            else if (char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.NonSpacingMark)
            {
                // A combining accent belongs to the previous letter; dropping it matches the folded precomposed form.
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }

        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }

        return words;
    }

    /// <summary>
    /// Folds plurals and possessives so that "panels", "panel's" and "panel" count as one term.
    /// Deliberately light: no verb stemming, so a folded term still reads as a word.
    /// </summary>
    public static string Fold(string word)
    {
        if (word.EndsWith("'s", StringComparison.Ordinal))
        {
            word = word[..^2];
        }

        if (word.Length <= 3 || word.Contains('\''))
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

    /// <summary>Folded words that carry meaning: no stop words, no spoken fillers.</summary>
    public static List<string> ContentTerms(string text)
    {
        var terms = new List<string>();
        foreach (var word in Words(text))
        {
            var folded = Fold(word);
            if (IsContentTerm(word, folded))
            {
                terms.Add(folded);
            }
        }

        return terms;
    }

    public static bool IsContentTerm(string word, string folded) =>
        folded.Length >= 2
        && !EnglishLexicon.StopWords.Contains(word) && !EnglishLexicon.StopWords.Contains(folded)
        && !EnglishLexicon.LowValueWords.Contains(word) && !EnglishLexicon.LowValueWords.Contains(folded);

    public static bool IsNumber(string word)
    {
        foreach (var c in word)
        {
            if (!char.IsDigit(c))
            {
                return EnglishLexicon.NumberWords.Contains(word);
            }
        }

        return true;
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
}
