using MediaActors.Providers.OpenAi;

namespace MediaActors.Providers.Content.OpenAi;

/// <summary>Settings of the OpenAI-compatible analysis and content generator (section "Content:OpenAI").</summary>
public sealed class OpenAiContentOptions : OpenAiUseOptions
{
    public const string SectionName = "Content:OpenAI";

    public override string Model { get; set; } = "gpt-4o-mini";

    /// <summary>Instructions for the analysis (summary, topics, sentiment, category).</summary>
    public string AnalysisPrompt { get; set; } =
        "You analyse the transcript of a video. Write a factual summary of 3 to 5 sentences, list 3 to 8 short topics, " +
        "judge the overall sentiment (label: positive, neutral, negative or mixed; score from -1 for very negative to 1 " +
        "for very positive) and name one category such as Education, Technology, Business, Entertainment, News, Health, " +
        "Lifestyle, Sports or Other. Use only what the transcript says, and write in the transcript's language.";

    /// <summary>Instructions for the blog post (also used for the title).</summary>
    public string BlogPrompt { get; set; } =
        "Write a blog post in Markdown of 500 to 900 words based on the video: a short introduction, sections with " +
        "## subheadings, and a conclusion. Do not repeat the title as a heading. Do not invent facts that are not in " +
        "the transcript. Also give the post a clear, specific title.";

    /// <summary>Instructions for the X (Twitter) thread.</summary>
    public string XThreadPrompt { get; set; } =
        "Write an X (Twitter) thread of 3 to 7 posts. The first post hooks the reader; each post stands on its own and is " +
        "at most 280 characters including hashtags and emoji.";

    /// <summary>Instructions for the LinkedIn post.</summary>
    public string LinkedInPrompt { get; set; } =
        "Write a LinkedIn post of 120 to 250 words in a professional, personal tone, with short paragraphs, ending with a " +
        "question or call to action and at most 3 hashtags.";

    /// <summary>Longer transcripts are cut to this many characters before they are sent.</summary>
    public int MaxTranscriptChars { get; set; } = 120_000;

    /// <summary>Optional limit on generated tokens (sent as max_completion_tokens); the provider's default when empty.</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>Optional sampling temperature; some reasoning models accept only their default, so it is not sent when empty.</summary>
    public float? Temperature { get; set; }
}
