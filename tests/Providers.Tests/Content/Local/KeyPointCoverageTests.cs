using MediaActors.Providers.Content.Local;
using MediaActors.Providers.Search.Local;
using MediaActors.SearchEval;
using Xunit.Abstractions;

namespace MediaActors.Providers.Tests.Content.Local;

/// <summary>
/// The sentence model makes the extractive generator's key points cover the parts of a talk: talks of three and four
/// parts on different topics (passages of bench/SearchEval/retrieval-set.json), key points picked with and without it.
/// </summary>
public sealed class KeyPointCoverageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Key_points_picked_by_meaning_cover_more_of_a_talks_parts_than_by_words()
    {
        var set = RetrievalSet.Load(RetrievalSet.DefaultPath());
        using var minilm = new MiniLmEmbedder();
        var byMeaning = new ExtractiveContentGenerator(minilm);
        var byWords = new ExtractiveContentGenerator();
        Assert.Equal("extractive-v2", byMeaning.Model);
        Assert.Equal("extractive-v1", byWords.Model);
        foreach (var (topics, perTopic) in new[] { (3, 4), (4, 3) })
        {
            var words = await KeyPointEvaluation.CoverageAsync(byWords, set, topics, perTopic, trials: 25);
            var meaning = await KeyPointEvaluation.CoverageAsync(byMeaning, set, topics, perTopic, trials: 25);
            output.WriteLine($"{topics} parts x {perTopic} passages: coverage by words {words:0.000}, by meaning {meaning:0.000}");
            Assert.True(meaning >= words + 0.1, $"{topics} parts: by meaning {meaning} vs by words {words}");
            Assert.True(meaning >= 0.85, $"{topics} parts: coverage by meaning {meaning}");
        }
    }

    [Fact]
    public async Task The_generated_content_names_the_model_that_picked_its_sentences()
    {
        using var minilm = new MiniLmEmbedder();
        var generator = new ExtractiveContentGenerator(minilm);
        var transcript = new MediaActors.Providers.Transcription.Transcript("en", "", [
            new(0, 5, "Solar panels turn sunlight into electricity on the roof."),
            new(5, 10, "Batteries store that energy for the evening hours."),
            new(10, 15, "Bread needs a long slow rise to develop its flavour."),
            new(15, 20, "A hot oven and steam give the loaf a crisp crust."),
        ], "test", "test");
        var analysis = await generator.AnalyzeAsync("Energy and bread", transcript, CancellationToken.None);
        var content = await generator.GenerateAsync("Energy and bread", transcript, analysis, CancellationToken.None);
        Assert.Equal("extractive-v2", analysis.Model);
        Assert.Equal("extractive-v2", content.Model);
        Assert.Contains("(extractive-v2)", content.BlogPostMarkdown, StringComparison.Ordinal);
    }
}
