using System.Text.RegularExpressions;
using MediaActors.Providers.Content;
using MediaActors.Providers.Content.Local;
using MediaActors.Providers.Transcription;

namespace MediaActors.Providers.Tests.Content.Local;

public sealed partial class ExtractiveContentGeneratorTests
{
    private readonly ExtractiveContentGenerator _generator = new();

    [GeneratedRegex(@"(?<=[.!?\u201d])\s+")]
    private static partial Regex SentenceBreak();

    [Fact]
    public void Names_the_provider_and_model()
    {
        Assert.Equal("local-extractive", _generator.Name);
        Assert.Equal("extractive-v1", _generator.Model);
    }

    [Fact]
    public async Task Summary_sentences_come_from_the_transcript_in_order()
    {
        var transcript = LocalTranscripts.Solar();

        var analysis = await _generator.AnalyzeAsync("solar.mp4", transcript, CancellationToken.None);

        var source = Normalise(transcript.Text);
        var sentences = SentenceBreak().Split(analysis.Summary);
        Assert.InRange(sentences.Length, 2, 5);
        var previous = -1;
        foreach (var sentence in sentences)
        {
            var position = source.IndexOf(Normalise(sentence), StringComparison.Ordinal);
            Assert.True(position >= 0, $"not in the transcript: {sentence}");
            Assert.True(position > previous, $"out of order: {sentence}");
            previous = position;
        }

        Assert.Equal("local-extractive", analysis.Provider);
        Assert.Equal("extractive-v1", analysis.Model);
    }

    [Fact]
    public async Task Punctuated_summary_quotes_whole_sentences_verbatim()
    {
        var transcript = LocalTranscripts.Punctuated();

        var analysis = await _generator.AnalyzeAsync("Vaccines explained", transcript, CancellationToken.None);

        var sentences = SentenceBreak().Split(analysis.Summary);
        Assert.InRange(sentences.Length, 2, 5);
        Assert.All(sentences, s => Assert.Contains(s, transcript.Text, StringComparison.Ordinal));
        Assert.Contains("vaccines", analysis.Topics);
        Assert.Contains("immune system", analysis.Topics);
        Assert.Equal("health", analysis.Category);
    }

    [Fact]
    public async Task Topics_contain_the_dominant_terms()
    {
        var analysis = await _generator.AnalyzeAsync("solar.mp4", LocalTranscripts.Solar(), CancellationToken.None);

        Assert.InRange(analysis.Topics.Count, 3, 8);
        Assert.Contains("solar panels", analysis.Topics);
        Assert.Contains(analysis.Topics, t => t.Contains("batter", StringComparison.Ordinal));
        Assert.Contains("electricity", analysis.Topics);
        Assert.DoesNotContain(analysis.Topics, t => t is "the" or "going" or "um" or "thanks");
        Assert.Equal("technology", analysis.Category);
    }

    [Theory]
    [InlineData("this is a great product and i love it the results were excellent and the team was very helpful", "positive")]
    [InlineData("the service was terrible and the food was awful i hate this place and i was disappointed", "negative")]
    [InlineData("the meeting starts at ten in room four and we will review the schedule for the quarter", "neutral")]
    [InlineData("honestly the new update is not good", "negative")]
    [InlineData("i didn't like the ending and the acting wasn't good either", "negative")]
    [InlineData("the trip was not bad at all", "positive")]
    [InlineData("the food was great but the service was terrible", "mixed")]
    public async Task Sentiment_follows_the_opinion_words_and_negation(string text, string expected)
    {
        var analysis = await _generator.AnalyzeAsync("review", LocalTranscripts.Text(text), CancellationToken.None);

        Assert.Equal(expected, analysis.SentimentLabel);
        Assert.InRange(analysis.SentimentScore, -1, 1);
        switch (expected)
        {
            case "positive":
                Assert.True(analysis.SentimentScore > 0);
                break;
            case "negative":
                Assert.True(analysis.SentimentScore < 0);
                break;
            case "neutral":
                Assert.Equal(0, analysis.SentimentScore);
                break;
        }
    }

    [Theory]
    [InlineData("the striker scored a goal in the final match of the season and the team won the league", "sports")]
    [InlineData("the government announced a new tax policy before the election and the senate will vote next week", "politics")]
    [InlineData("preheat the oven and bake the bread in the kitchen then serve it with coffee for the family", "lifestyle")]
    [InlineData("the weather was okay and we walked for a while", "other")]
    public async Task Category_comes_from_keyword_rules(string text, string expected)
    {
        var analysis = await _generator.AnalyzeAsync("untitled", LocalTranscripts.Text(text), CancellationToken.None);

        Assert.Equal(expected, analysis.Category);
    }

    [Fact]
    public async Task Blog_is_markdown_with_title_note_summary_key_points_and_quoted_sections()
    {
        var transcript = LocalTranscripts.Solar();
        var (analysis, content) = await Run("VID_20240101_120000.mp4", transcript);

        var blog = content.BlogPostMarkdown;
        Assert.StartsWith("# ", blog, StringComparison.Ordinal);
        Assert.Equal("Solar Panels and Electricity", content.Title);
        Assert.StartsWith("# " + content.Title + "\n", blog, StringComparison.Ordinal);
        Assert.Contains("*Generated by the local extractive generator", blog, StringComparison.Ordinal);
        Assert.Contains("## Summary\n\n" + analysis.Summary, blog, StringComparison.Ordinal);
        Assert.Contains("## Key points\n\n- ", blog, StringComparison.Ordinal);
        Assert.Contains("\n> \u201c", blog, StringComparison.Ordinal);
        Assert.Contains("\u2014 at 0:", blog, StringComparison.Ordinal);
        Assert.Equal("local-extractive", content.Provider);
        Assert.Equal("extractive-v1", content.Model);
    }

    [Fact]
    public async Task A_meaningful_title_is_kept()
    {
        var (_, content) = await Run("Home energy: what I learned", LocalTranscripts.Solar());

        Assert.Equal("Home energy: what I learned", content.Title);
        Assert.StartsWith("# Home energy: what I learned\n", content.BlogPostMarkdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task X_thread_posts_are_numbered_and_fit_280_characters()
    {
        var (_, content) = await Run("solar.mp4", LocalTranscripts.Solar());

        AssertThread(content.XThread);
        Assert.True(content.XThread.Count >= 3);
        Assert.Contains("#SolarPanels", content.XThread[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Long_transcripts_stay_within_the_platform_limits()
    {
        var (analysis, content) = await Run("Sprint review", LocalTranscripts.Long(600));

        AssertThread(content.XThread);
        Assert.InRange(content.LinkedInPost.Length, 1, 3000);
        Assert.Equal(5, SentenceBreak().Split(analysis.Summary).Length);
        Assert.InRange(analysis.Topics.Count, 3, 8);
    }

    [Fact]
    public async Task Overlong_sentences_are_shortened_to_fit()
    {
        var run = string.Join(' ', Enumerable.Range(0, 400).Select(i => i % 9 == 0 ? "extraordinarily" : "electricity"));
        var (_, content) = await Run("Stress", LocalTranscripts.Text(run));

        AssertThread(content.XThread);
        Assert.InRange(content.LinkedInPost.Length, 1, 3000);
    }

    [Fact]
    public async Task LinkedIn_post_has_the_summary_tags_and_label()
    {
        var (analysis, content) = await Run("solar.mp4", LocalTranscripts.Solar());

        Assert.InRange(content.LinkedInPost.Length, 1, 3000);
        Assert.Contains(analysis.Summary, content.LinkedInPost, StringComparison.Ordinal);
        Assert.Contains("#SolarPanels", content.LinkedInPost, StringComparison.Ordinal);
        Assert.Contains("local extractive generator", content.LinkedInPost, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unpunctuated_lower_case_input_becomes_sentences()
    {
        var text = TranscriptSentences.Split(LocalTranscripts.Solar());

        Assert.False(text.Punctuated);
        Assert.True(text.HasTimings);
        Assert.All(text.Sentences, s =>
        {
            Assert.True(char.IsUpper(s.Text[0]), s.Text);
            Assert.EndsWith(".", s.Text, StringComparison.Ordinal);
            Assert.InRange(s.Words.Count, 5, TranscriptSentences.MaxUnpunctuatedWords);
        });
        Assert.DoesNotContain(text.Sentences, s => s.Words.Contains("um"));

        var (analysis, content) = await Run("solar.mp4", LocalTranscripts.Solar());
        Assert.NotEmpty(analysis.Summary);
        Assert.NotEmpty(content.XThread);
    }

    [Fact]
    public void A_long_unpunctuated_segment_is_split_near_twenty_words()
    {
        var words = Enumerable.Range(0, 95).Select(i => i % 19 == 0 ? "so" : "word" + i).ToArray();
        var transcript = LocalTranscripts.Unpunctuated(string.Join(' ', words));

        var sentences = TranscriptSentences.Split(transcript).Sentences;

        Assert.InRange(sentences.Count, 4, 6);
        Assert.All(sentences, s => Assert.InRange(s.Words.Count, 12, TranscriptSentences.MaxUnpunctuatedWords));
        Assert.Equal(95, sentences.Sum(s => s.Words.Count));
        Assert.True(sentences.Count(s => s.Words[0] == "so") >= 3, "cuts should prefer the clause opener 'so'");
        Assert.True(sentences.Zip(sentences.Skip(1)).All(p => p.First.Start < p.Second.Start));
    }

    [Fact]
    public void Punctuated_text_is_split_at_sentence_ends_but_not_at_abbreviations_or_decimals()
    {
        var transcript = LocalTranscripts.Text("Dr. Smith measured 3.5 kilowatts on the roof. Was that enough? Yes! It powered the whole house e.g. the fridge.");

        var sentences = TranscriptSentences.Split(transcript).Sentences.Select(s => s.Text).ToList();

        Assert.Equal(
            ["Dr. Smith measured 3.5 kilowatts on the roof.", "Was that enough?", "Yes!", "It powered the whole house e.g. the fridge."],
            sentences);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("<sil> [NOISE] <sil>")]
    public async Task No_speech_gives_an_honest_valid_result(string text)
    {
        var transcript = text.Length == 0
            ? LocalTranscripts.Empty()
            : new Transcript("en", text, [new TranscriptSegment(0, 3, text)], "local-pocketsphinx", "en-us");

        var (analysis, content) = await Run("clip.mp4", transcript);

        Assert.Equal(ExtractiveContentGenerator.NoSpeechSummary, analysis.Summary);
        Assert.Empty(analysis.Topics);
        Assert.Equal("neutral", analysis.SentimentLabel);
        Assert.Equal(0, analysis.SentimentScore);
        Assert.Equal("other", analysis.Category);
        Assert.StartsWith("# ", content.BlogPostMarkdown, StringComparison.Ordinal);
        Assert.Contains("Generated by the local extractive generator", content.BlogPostMarkdown, StringComparison.Ordinal);
        Assert.Contains("no recognisable speech", content.BlogPostMarkdown, StringComparison.Ordinal);
        AssertThread(content.XThread);
        Assert.Single(content.XThread);
        Assert.Contains("no recognisable speech", content.LinkedInPost, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_few_words_are_reported_as_very_little_speech()
    {
        var (analysis, content) = await Run("clip.mp4", LocalTranscripts.Unpunctuated("hello there"));

        Assert.Equal("The recording contains very little speech: \u201cHello there.\u201d", analysis.Summary);
        Assert.DoesNotContain("## Key points", content.BlogPostMarkdown, StringComparison.Ordinal);
        AssertThread(content.XThread);
    }

    [Fact]
    public async Task Same_input_gives_the_same_output()
    {
        var transcript = LocalTranscripts.Long(120);
        var first = await Run("demo", transcript);
        var second = await Run("demo", transcript, new ExtractiveContentGenerator());

        Assert.Equal(first.Analysis.Summary, second.Analysis.Summary);
        Assert.Equal(first.Analysis.Topics, second.Analysis.Topics);
        Assert.Equal(first.Analysis.SentimentLabel, second.Analysis.SentimentLabel);
        Assert.Equal(first.Analysis.SentimentScore, second.Analysis.SentimentScore);
        Assert.Equal(first.Analysis.Category, second.Analysis.Category);
        Assert.Equal(first.Content.Title, second.Content.Title);
        Assert.Equal(first.Content.BlogPostMarkdown, second.Content.BlogPostMarkdown);
        Assert.Equal(first.Content.XThread, second.Content.XThread);
        Assert.Equal(first.Content.LinkedInPost, second.Content.LinkedInPost);
    }

    [Fact]
    public async Task Content_can_be_written_from_another_providers_analysis()
    {
        var analysis = new Analysis("Solar is cheap now. Batteries follow.", ["renewable energy", "c#", "home storage"], "positive", 0.6, "technology", "openai", "gpt-4o-mini");

        var content = await _generator.GenerateAsync("Energy", LocalTranscripts.Solar(), analysis, CancellationToken.None);

        Assert.Contains("## Summary\n\nSolar is cheap now. Batteries follow.", content.BlogPostMarkdown, StringComparison.Ordinal);
        Assert.Contains("#RenewableEnergy #HomeStorage", content.XThread[^1], StringComparison.Ordinal);
        Assert.StartsWith("1/", content.XThread[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_is_honoured()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _generator.AnalyzeAsync("x", LocalTranscripts.Solar(), cancelled.Token));
    }

    private static void AssertThread(IReadOnlyList<string> thread)
    {
        Assert.NotEmpty(thread);
        for (var i = 0; i < thread.Count; i++)
        {
            Assert.StartsWith($"{i + 1}/{thread.Count} ", thread[i], StringComparison.Ordinal);
            Assert.InRange(thread[i].Length, 1, 280);
        }
    }

    private async Task<(Analysis Analysis, GeneratedContent Content)> Run(string title, Transcript transcript, ExtractiveContentGenerator? generator = null)
    {
        generator ??= _generator;
        var analysis = await generator.AnalyzeAsync(title, transcript, CancellationToken.None);
        var content = await generator.GenerateAsync(title, transcript, analysis, CancellationToken.None);
        return (analysis, content);
    }

    /// <summary>Lower case, letters, digits and single spaces: what survives the sentence display normalisation.</summary>
    private static string Normalise(string text) =>
        string.Join(' ', TextTokens.Words(text.Replace("\u201c", string.Empty).Replace("\u201d", string.Empty)));
}
