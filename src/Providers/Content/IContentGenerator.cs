using MediaActors.Providers.Transcription;

namespace MediaActors.Providers.Content;

/// <summary>Summary, topics, sentiment and category of a transcript.</summary>
public sealed record Analysis(string Summary, IReadOnlyList<string> Topics, string SentimentLabel, double SentimentScore, string Category, string Provider, string Model);

/// <summary>Written content made from a transcript: a Markdown blog post, an X thread and a LinkedIn post.</summary>
public sealed record GeneratedContent(string Title, string BlogPostMarkdown, IReadOnlyList<string> XThread, string LinkedInPost, string Provider, string Model);

/// <summary>Analyses transcripts and writes content from them. Throws <see cref="StepException"/> on failure.</summary>
public interface IContentGenerator
{
    /// <summary>The provider's name as recorded with results ("local-extractive", "openai").</summary>
    string Name { get; }

    Task<Analysis> AnalyzeAsync(string title, Transcript transcript, CancellationToken cancellationToken);

    Task<GeneratedContent> GenerateAsync(string title, Transcript transcript, Analysis analysis, CancellationToken cancellationToken);
}
