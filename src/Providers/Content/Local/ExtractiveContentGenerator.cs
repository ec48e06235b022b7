using System.Text.RegularExpressions;
using MediaActors.Providers.Search;
using MediaActors.Providers.Transcription;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MediaActors.Providers.Content.Local;

/// <summary>
/// The embedded analysis and content provider: no network. It selects sentences from the transcript (TextRank),
/// picks keyphrases (frequency times spread), scores sentiment from a lexicon and assigns a category from keyword
/// rules, then lays the selection out as a blog post, an X thread and a LinkedIn post, each labelled as generated.
/// Given a sentence embedder (the embedded default's sentence model), the summary and key points are picked for
/// relevance and novelty of meaning, which covers more of a talk's parts ("extractive-v2"); without one, or when
/// embedding fails, by TF-IDF ("extractive-v1"). The same transcript always gives the same output.
/// </summary>
public sealed partial class ExtractiveContentGenerator(IEmbedder? sentenceEmbedder = null, ILogger<ExtractiveContentGenerator>? logger = null) : IContentGenerator
{
    public const string ProviderName = "local-extractive";
    public const string ModelName = "extractive-v1";
    public const string ModelWithMeaning = "extractive-v2";

    /// <summary>Longer transcripts are picked by TF-IDF alone (embedding every sentence of a very long one costs seconds).</summary>
    public const int MaxEmbeddedSentences = 3000;

    private const int RecentTranscripts = 4;

    private readonly List<(string Key, IReadOnlyList<float[]> Vectors)> _recent = [];
    public const string NoSpeechSummary = "The recording contains no recognisable speech.";

    private const int FewWords = 6;

    private static readonly HashSet<string> GenericTitles = new(StringComparer.OrdinalIgnoreCase)
    {
        "untitled", "untitled project", "untitled recording", "new project", "project", "video", "recording", "audio",
        "upload", "my video", "new video", "file", "media", "movie", "clip",
    };

    [GeneratedRegex(@"\.(mp4|m4v|mov|mkv|webm|avi|wmv|flv|mpg|mpeg|3gp|m4a|mp3|wav|ogg|oga|opus|flac|aac)$", RegexOptions.IgnoreCase)]
    private static partial Regex MediaExtension();

    public string Name => ProviderName;

    public string Model => sentenceEmbedder is null ? ModelName : ModelWithMeaning;

    /// <summary>Whether the picks are made by meaning, with a sentence embedder.</summary>
    public bool UsesSentenceModel => sentenceEmbedder is Search.Local.MiniLmEmbedder;

    public async Task<Analysis> AnalyzeAsync(string title, Transcript transcript, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        cancellationToken.ThrowIfCancellationRequested();
        var text = TranscriptSentences.Split(transcript);
        var meaning = await MeaningAsync(text, cancellationToken);
        return Analyze(title, text, meaning, cancellationToken);
    }

    public async Task<GeneratedContent> GenerateAsync(string title, Transcript transcript, Analysis analysis, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        ArgumentNullException.ThrowIfNull(analysis);
        cancellationToken.ThrowIfCancellationRequested();
        var plan = await PlanAsync(title, transcript, analysis, cancellationToken);
        return new GeneratedContent(
            plan.Title,
            ExtractiveWriter.Blog(plan),
            ExtractiveWriter.XThread(plan),
            ExtractiveWriter.LinkedIn(plan),
            ProviderName,
            plan.Model);
    }

    /// <summary>What the posts are made from (the summary, key points and sections), for the tests and the evaluation.</summary>
    internal async Task<ContentPlan> PlanAsync(string title, Transcript transcript, Analysis analysis, CancellationToken cancellationToken)
    {
        var text = TranscriptSentences.Split(transcript);
        var meaning = await MeaningAsync(text, cancellationToken);
        return Plan(title, text, analysis, meaning, cancellationToken);
    }

    /// <summary>One vector per sentence, or null: no embedder, too few or too many sentences, or the embedder failed (logged).</summary>
    private async Task<IReadOnlyList<float[]>?> MeaningAsync(TranscriptText text, CancellationToken cancellationToken)
    {
        if (sentenceEmbedder is null || text.Sentences.Count < 3 || text.Sentences.Count > MaxEmbeddedSentences)
        {
            return null;
        }

        // The analysis and the content steps embed the same sentences: the last few transcripts' vectors are kept.
        var texts = text.Sentences.Select(s => s.Text).ToList();
        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', texts))));
        lock (_recent)
        {
            if (_recent.Find(e => e.Key == key) is { Key: not null } hit)
            {
                return hit.Vectors;
            }
        }

        try
        {
            var vectors = await sentenceEmbedder.EmbedAsync(texts, cancellationToken);
            lock (_recent)
            {
                _recent.Add((key, vectors));
                if (_recent.Count > RecentTranscripts)
                {
                    _recent.RemoveAt(0);
                }
            }

            return vectors;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            (logger ?? NullLogger<ExtractiveContentGenerator>.Instance).LogWarning(
                "Embedding the transcript's sentences failed ({Error}); key sentences are picked by TF-IDF instead", ex.GetType().Name);
            return null;
        }
    }

    /// <summary>How many summary sentences a transcript of <paramref name="sentences"/> sentences gets: 2 to 5.</summary>
    internal static int SummaryLength(int sentences) => sentences switch
    {
        <= 2 => sentences,
        < 10 => 2,
        < 25 => 3,
        < 50 => 4,
        _ => 5,
    };

    private static Analysis Analyze(string title, TranscriptText text, IReadOnlyList<float[]>? meaning, CancellationToken cancellationToken)
    {
        var sentences = text.Sentences;
        var model = meaning is null ? ModelName : ModelWithMeaning;
        if (sentences.Count == 0)
        {
            return new Analysis(NoSpeechSummary, [], LexiconSentiment.Neutral, 0, CategoryRules.Other, ProviderName, model);
        }

        string summary;
        if (text.WordCount < FewWords)
        {
            summary = $"The recording contains very little speech: \u201c{string.Join(' ', sentences.Select(s => s.Text))}\u201d";
        }
        else
        {
            var scores = KeySentenceRanker.Rank(sentences, cancellationToken);
            var chosen = KeySentenceRanker.Select(sentences, scores, SummaryLength(sentences.Count), meaning: meaning);
            summary = string.Join(' ', chosen.Select(i => sentences[i].Text));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var topics = KeyphraseExtractor.Extract(sentences, KeyphraseExtractor.TopicCount(text.WordCount));
        var sentiment = LexiconSentiment.Score(sentences.Select(s => s.Words));
        var category = CategoryRules.Classify(
            sentences.SelectMany(s => s.Words).Where(w => !EnglishLexicon.StopWords.Contains(w)).Select(TextTokens.Fold),
            TextTokens.Words(title ?? string.Empty).Select(TextTokens.Fold));
        return new Analysis(summary, topics, sentiment.Label, sentiment.Score, category, ProviderName, model);
    }

    private static ContentPlan Plan(string title, TranscriptText text, Analysis analysis, IReadOnlyList<float[]>? meaning, CancellationToken cancellationToken)
    {
        var sentences = text.Sentences;
        var model = meaning is null ? ModelName : ModelWithMeaning;
        var topics = analysis.Topics ?? [];
        var planTitle = MakeTitle(title, topics);
        if (sentences.Count == 0)
        {
            return new ContentPlan(planTitle, NoSpeechSummary, topics, analysis.Category, analysis.SentimentLabel, [], [], text.HasTimings, HasSpeech: false, model);
        }

        var summary = string.IsNullOrWhiteSpace(analysis.Summary) ? string.Join(' ', sentences.Take(2).Select(s => s.Text)) : analysis.Summary.Trim();
        if (text.WordCount < FewWords)
        {
            return new ContentPlan(planTitle, summary, topics, analysis.Category, analysis.SentimentLabel, [], [], text.HasTimings, HasSpeech: true, model);
        }

        var scores = KeySentenceRanker.Rank(sentences, cancellationToken);

        // Key points repeat the summary only when the transcript is too short to offer anything else.
        var summaryTexts = KeySentenceRanker.Select(sentences, scores, SummaryLength(sentences.Count), meaning: meaning)
            .Select(i => sentences[i].Text).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var distinctTexts = sentences.Select(s => s.Text).Distinct(StringComparer.OrdinalIgnoreCase).Count();
        var exclude = distinctTexts - summaryTexts.Count >= 3 ? summaryTexts : null;
        var keyPointCount = Math.Clamp(sentences.Count / 6, 3, 6);
        var keyPoints = KeySentenceRanker.Select(sentences, scores, keyPointCount, exclude, meaning).Select(i => sentences[i]).ToList();
        var sections = Sections(sentences, scores, keyPoints.Select(k => k.Text));
        return new ContentPlan(planTitle, summary, topics, analysis.Category, analysis.SentimentLabel, keyPoints, sections, text.HasTimings, HasSpeech: true, model);
    }

    /// <summary>Contiguous parts of the transcript, each with its best sentence quoted and up to two more in support.</summary>
    private static List<ContentSection> Sections(IReadOnlyList<TranscriptSentence> sentences, double[] scores, IEnumerable<string> keyPoints)
    {
        var parts = sentences.Count < 6 ? 1 : Math.Clamp(sentences.Count / 8, 2, 4);
        var sections = new List<ContentSection>(parts);
        var usedHeadings = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        // A sentence is shown once in the post: transcripts that repeat themselves must not fill every section with one line.
        var shown = keyPoints.ToHashSet(StringComparer.OrdinalIgnoreCase);
        for (var p = 0; p < parts; p++)
        {
            var from = p * sentences.Count / parts;
            var to = (p + 1) * sentences.Count / parts;
            var part = sentences.Skip(from).Take(to - from).ToList();
            var ranked = part.OrderByDescending(s => scores[s.Index]).ThenBy(s => s.Index).ToList();
            var quote = ranked.FirstOrDefault(s => s.Words.Count >= 5 && !shown.Contains(s.Text)) ?? ranked[0];
            shown.Add(quote.Text);
            var supporting = new List<TranscriptSentence>(2);
            foreach (var sentence in ranked)
            {
                if (supporting.Count == 2)
                {
                    break;
                }

                if (sentence.Words.Count >= 5 && shown.Add(sentence.Text))
                {
                    supporting.Add(sentence);
                }
            }

            supporting.Sort((a, b) => a.Index.CompareTo(b.Index));

            var heading = KeyphraseExtractor.Extract(part, 4).Select(ExtractiveWriter.TitleCase).FirstOrDefault(usedHeadings.Add);
            if (heading is null)
            {
                heading = parts == 1 ? "From the recording" : $"Part {p + 1}";
                usedHeadings.Add(heading);
            }

            sections.Add(new ContentSection(heading, quote, supporting));
        }

        return sections;
    }

    /// <summary>The user's title when it says something; otherwise one made from the top topics.</summary>
    internal static string MakeTitle(string? title, IReadOnlyList<string> topics)
    {
        var original = (title ?? string.Empty).Trim();
        var cleaned = MediaExtension().Replace(original, string.Empty);
        if (!cleaned.Contains(' '))
        {
            cleaned = cleaned.Replace('_', ' ').Replace('-', ' ');
        }

        cleaned = string.Join(' ', cleaned.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        var letters = cleaned.Count(char.IsLetter);
        var visible = cleaned.Count(c => !char.IsWhiteSpace(c));
        if (letters >= 4 && letters * 2 >= visible && !GenericTitles.Contains(cleaned))
        {
            // A title that was a file name ("sense_and_sensibility.wav") reads better title-cased.
            return cleaned == original ? cleaned : ExtractiveWriter.TitleCase(cleaned);
        }

        var named = topics.Where(t => !string.IsNullOrWhiteSpace(t)).Take(2).Select(t => ExtractiveWriter.TitleCase(t.Trim())).ToList();
        return named.Count switch
        {
            0 => "Untitled recording",
            1 => named[0],
            _ => $"{named[0]} and {named[1]}",
        };
    }
}
