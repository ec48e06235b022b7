using MediaActors.Providers.Transcription;

namespace MediaActors.Providers.Tests.Content.Local;

/// <summary>Crafted transcripts for the extractive generator tests.</summary>
internal static class LocalTranscripts
{
    /// <summary>pocketsphinx style: lower case, no punctuation, one segment per pause, one recognition error ("sell" for "cell").</summary>
    public static readonly string[] SolarSegments =
    [
        "hi everyone today we are going to talk about solar panels and home batteries",
        "solar panels turn sunlight into electricity during the day",
        "um",
        "a home battery stores the extra electricity so you can use it at night when the panels produce nothing",
        "the price of solar panels has dropped a lot over the last ten years and each solar sell is more efficient",
        "batteries are still expensive but the cost of a home battery keeps falling every year",
        "if you combine solar panels with a battery you can cut your electricity bill and keep the lights on during a power cut",
        "an inverter converts the direct current from the solar panels into alternating current for the house",
        "in winter the panels produce less electricity so the battery matters even more and you may still need the grid",
        "so my advice is to size the battery for one evening of electricity use and to put as many solar panels on the roof as you can",
        "thanks for watching",
    ];

    public static Transcript Unpunctuated(params string[] segments)
    {
        var list = new List<TranscriptSegment>();
        var time = 0.0;
        foreach (var segment in segments)
        {
            var duration = 0.4 * segment.Split(' ').Length;
            list.Add(new TranscriptSegment(time, time + duration, segment));
            time += duration + 0.5;
        }

        return new Transcript("en", string.Join(' ', segments), list, "local-pocketsphinx", "en-us");
    }

    public static Transcript Solar() => Unpunctuated(SolarSegments);

    /// <summary>OpenAI style: punctuated, capitalised, segments that do not follow sentence boundaries.</summary>
    public static Transcript Punctuated()
    {
        string[] segments =
        [
            "Welcome back. Today I want to explain how vaccines train the immune system.",
            "A vaccine shows the immune system a harmless piece of a virus, so the body learns to recognise it.",
            "When the real virus arrives, the immune system responds faster and the disease is milder. Dr. Smith,",
            "who has studied vaccines for twenty years, says the immune response can last for decades.",
            "Some vaccines need a booster because the immune memory fades over time.",
            "Side effects are usually mild: a sore arm or a short fever.",
            "The important thing is that vaccines protect the patient and the people around them.",
        ];
        var list = new List<TranscriptSegment>();
        for (var i = 0; i < segments.Length; i++)
        {
            list.Add(new TranscriptSegment(i * 6.0, (i * 6.0) + 5.5, segments[i]));
        }

        return new Transcript("en", string.Join(' ', segments), list, "openai", "whisper-1");
    }

    /// <summary>A long, varied, unpunctuated transcript: many segments from a deterministic word mix.</summary>
    public static Transcript Long(int segments)
    {
        string[] subjects = ["the team", "our customers", "the new database", "the cloud server", "every developer", "the product manager", "the budget", "the release"];
        string[] verbs = ["needs", "changes", "improves", "depends on", "slows down", "reviews", "supports", "replaces"];
        string[] objects = ["the deployment pipeline", "the monitoring dashboard", "the test suite", "the pricing model", "the search index", "the mobile app", "the backup plan", "the security audit"];
        string[] tails = ["before the next sprint", "because latency matters", "and that saves money", "which nobody expected", "so we measured it twice", "after the outage last month"];
        var list = new List<string>();
        for (var i = 0; i < segments; i++)
        {
            var words = $"{subjects[i % subjects.Length]} {verbs[(i * 3) % verbs.Length]} {objects[(i * 5) % objects.Length]} {tails[(i * 7) % tails.Length]}";
            if (i % 4 == 0)
            {
                words += $" and {subjects[(i + 3) % subjects.Length]} {verbs[(i + 1) % verbs.Length]} {objects[(i + 2) % objects.Length]} {tails[(i + 5) % tails.Length]} {tails[(i + 1) % tails.Length]}";
            }

            list.Add(words);
        }

        return Unpunctuated([.. list]);
    }

    public static Transcript Text(string text) => new("en", text, [new TranscriptSegment(0, 5, text)], "test", "test");

    public static Transcript Empty() => new("en", string.Empty, [], "local-pocketsphinx", "en-us");
}
