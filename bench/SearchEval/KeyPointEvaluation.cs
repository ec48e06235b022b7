using MediaActors.Providers.Content;
using MediaActors.Providers.Content.Local;
using MediaActors.Providers.Transcription;

namespace MediaActors.SearchEval;

/// <summary>
/// Whether the extractive generator's key points cover the parts of a talk. Each trial is a talk made of
/// <c>topics</c> parts of <c>perTopic</c> passages of the retrieval set, each part on its own topic, one segment per
/// passage; coverage is the share of the parts (at most as many as there are key points) that at least one key point
/// comes from. Trials are drawn from a fixed seed, so runs compare.
/// </summary>
public static class KeyPointEvaluation
{
    public static async Task<double> CoverageAsync(ExtractiveContentGenerator generator, RetrievalSet set, int topics, int perTopic, int trials, int seed = 7)
    {
        var random = new Random(seed);
        var allTopics = set.Passages.Select(p => p.Topic).Distinct().ToList();
        double total = 0;
        for (var trial = 0; trial < trials; trial++)
        {
            var parts = allTopics.OrderBy(_ => random.Next()).Take(topics)
                .SelectMany(topic => set.Passages.Where(p => p.Topic == topic).OrderBy(_ => random.Next()).Take(perTopic))
                .ToList();
            var segments = parts.Select((p, i) => new TranscriptSegment(i * 20, i * 20 + 20, p.Text)).ToList();
            var transcript = new Transcript("en", string.Join(' ', parts.Select(p => p.Text)), segments, "evaluation", "retrieval-set");
            var analysis = await generator.AnalyzeAsync("Talk", transcript, CancellationToken.None);
            var plan = await generator.PlanAsync("Talk", transcript, analysis, CancellationToken.None);
            var covered = plan.KeyPoints.Select(k => parts.First(p => p.Text.Contains(k.Text.TrimEnd('.', '!', '?'), StringComparison.Ordinal)).Topic)
                .Distinct().Count();
            total += covered / (double)Math.Min(topics, plan.KeyPoints.Count);
        }

        return Math.Round(total / trials, 3);
    }
}
