using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MediaActors.Providers.OpenAi;
using MediaActors.Providers.Transcription;
using OpenAI.Chat;

namespace MediaActors.Providers.Content.OpenAi;

/// <summary>
/// Analysis and content through OpenAI-compatible chat completions with strict JSON-schema output. The schema names
/// sent in response_format are <see cref="AnalysisSchemaName"/> ("analysis") and <see cref="ContentSchemaName"/> ("content").
/// </summary>
public sealed class OpenAiContentGenerator : IContentGenerator
{
    /// <summary>json_schema.name of the analysis request: {summary, topics[], sentiment{label, score}, category}.</summary>
    public const string AnalysisSchemaName = "analysis";

    /// <summary>json_schema.name of the content request: {title, blogPostMarkdown, xThread[], linkedInPost}.</summary>
    public const string ContentSchemaName = "content";

    /// <summary>Longest X post, counted in user-perceived characters.</summary>
    public const int MaxXPostChars = 280;

    private static readonly string[] _sentimentLabels = ["positive", "neutral", "negative", "mixed"];

    private static readonly BinaryData _analysisSchema = Compact("""
        {
          "type": "object",
          "properties": {
            "summary": { "type": "string", "description": "A factual summary of the video in 3 to 5 sentences." },
            "topics": { "type": "array", "items": { "type": "string" }, "description": "3 to 8 short topics." },
            "sentiment": {
              "type": "object",
              "properties": {
                "label": { "type": "string", "enum": ["positive", "neutral", "negative", "mixed"] },
                "score": { "type": "number", "description": "From -1 (very negative) to 1 (very positive)." }
              },
              "required": ["label", "score"],
              "additionalProperties": false
            },
            "category": { "type": "string", "description": "One short category, e.g. Education, Technology, Business." }
          },
          "required": ["summary", "topics", "sentiment", "category"],
          "additionalProperties": false
        }
        """);

    private static readonly BinaryData _contentSchema = Compact("""
        {
          "type": "object",
          "properties": {
            "title": { "type": "string", "description": "The title of the blog post." },
            "blogPostMarkdown": { "type": "string", "description": "The blog post in Markdown." },
            "xThread": { "type": "array", "items": { "type": "string", "description": "One post of at most 280 characters." } },
            "linkedInPost": { "type": "string", "description": "The LinkedIn post." }
          },
          "required": ["title", "blogPostMarkdown", "xThread", "linkedInPost"],
          "additionalProperties": false
        }
        """);

    private readonly OpenAiContentOptions _options;
    private readonly OpenAiConnection _connection;

    public OpenAiContentGenerator(OpenAiOptions openAi, OpenAiContentOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _connection = new OpenAiConnection(openAi, options, OpenAiContentOptions.SectionName);
    }

    public string Name => "openai";

    public string Model => _options.Model;

    /// <summary>False without an API key: the composition root should then pick another generator.</summary>
    public bool IsConfigured => _connection.IsConfigured;

    public async Task<Analysis> AnalyzeAsync(string title, Transcript transcript, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        var system = $"{_options.AnalysisPrompt}\n\nAnswer only with JSON that matches the \"{AnalysisSchemaName}\" schema.";
        var user = $"Video title: {title}\n\nTranscript:\n{PrepareTranscript(transcript)}";
        var (json, model) = await CompleteAsync(AnalysisSchemaName, _analysisSchema, system, user, cancellationToken).ConfigureAwait(false);

        using var document = ParseObject(json, "analysis");
        var root = document.RootElement;
        var summary = RequireString(root, "summary", "analysis");
        var topics = RequireStrings(root, "topics", "analysis")
            .Select(t => t.Trim())
            .Where(t => t.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        if (!root.TryGetProperty("sentiment", out var sentiment) || sentiment.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("analysis", "'sentiment' must be an object with 'label' and 'score'");
        }

        var label = RequireString(sentiment, "label", "analysis", "sentiment.label").Trim().ToLowerInvariant();
        if (!_sentimentLabels.Contains(label))
        {
            throw Invalid("analysis", $"'sentiment.label' must be one of {string.Join(", ", _sentimentLabels)}, not '{Shorten(label, 40)}'");
        }

        if (!sentiment.TryGetProperty("score", out var scoreElement) || scoreElement.ValueKind != JsonValueKind.Number
            || !scoreElement.TryGetDouble(out var score) || !double.IsFinite(score))
        {
            throw Invalid("analysis", "'sentiment.score' must be a number");
        }

        var category = RequireString(root, "category", "analysis").Trim();
        return new Analysis(summary.Trim(), topics, label, Math.Clamp(score, -1, 1), category, Name, model);
    }

    public async Task<GeneratedContent> GenerateAsync(string title, Transcript transcript, Analysis analysis, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transcript);
        ArgumentNullException.ThrowIfNull(analysis);
        var system = new StringBuilder()
            .AppendLine("You turn the transcript of a video into written content.")
            .AppendLine($"Answer only with JSON that matches the \"{ContentSchemaName}\" schema.")
            .AppendLine()
            .AppendLine($"title and blogPostMarkdown: {_options.BlogPrompt}")
            .AppendLine()
            .AppendLine($"xThread (one array item per post): {_options.XThreadPrompt}")
            .AppendLine()
            .Append($"linkedInPost: {_options.LinkedInPrompt}")
            .ToString();
        var user = new StringBuilder()
            .AppendLine($"Video title: {title}")
            .AppendLine($"Summary: {analysis.Summary}")
            .AppendLine($"Topics: {string.Join(", ", analysis.Topics)}")
            .AppendLine($"Category: {analysis.Category}")
            .AppendLine($"Sentiment: {analysis.SentimentLabel}")
            .AppendLine()
            .AppendLine("Transcript:")
            .Append(PrepareTranscript(transcript))
            .ToString();
        var (json, model) = await CompleteAsync(ContentSchemaName, _contentSchema, system, user, cancellationToken).ConfigureAwait(false);

        using var document = ParseObject(json, "content");
        var root = document.RootElement;
        var generatedTitle = RequireString(root, "title", "content").Trim();
        var blog = RequireString(root, "blogPostMarkdown", "content").Trim();
        var thread = RequireStrings(root, "xThread", "content")
            .Select(p => p.Trim())
            .Where(p => p.Length > 0)
            .Select(p => FitXPost(p))
            .ToList();
        if (thread.Count == 0)
        {
            throw Invalid("content", "'xThread' has no posts");
        }

        var linkedIn = RequireString(root, "linkedInPost", "content").Trim();
        return new GeneratedContent(generatedTitle.Length > 0 ? generatedTitle : title, blog, thread, linkedIn, Name, model);
    }

    /// <summary>Shortens a post over <see cref="MaxXPostChars"/> at a word boundary and marks the cut with an ellipsis.</summary>
    public static string FitXPost(string post)
    {
        var info = new StringInfo(post);
        if (info.LengthInTextElements <= MaxXPostChars)
        {
            return post;
        }

        var cut = info.SubstringByTextElements(0, MaxXPostChars - 1);
        var space = cut.LastIndexOf(' ');
        if (space > MaxXPostChars / 2)
        {
            cut = cut[..space];
        }

        return cut.TrimEnd() + "…";
    }

    private async Task<(string Json, string Model)> CompleteAsync(string schemaName, BinaryData schema, string system, string user, CancellationToken cancellationToken)
    {
        var client = _connection.Client.GetChatClient(_options.Model);
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat(schemaName, schema, jsonSchemaIsStrict: true),
            MaxOutputTokenCount = _options.MaxOutputTokens,
            Temperature = _options.Temperature,
        };
        ChatCompletion completion;
        try
        {
            completion = (await client.CompleteChatAsync([new SystemChatMessage(system), new UserChatMessage(user)], options, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (e is not StepException && !cancellationToken.IsCancellationRequested)
        {
            throw _connection.Failure(e, "chat completion");
        }

        if (!string.IsNullOrWhiteSpace(completion.Refusal))
        {
            throw Invalid(schemaName, $"the model refused: {_connection.Redact(Shorten(completion.Refusal, 300))}");
        }

        if (completion.FinishReason == ChatFinishReason.Length)
        {
            throw Invalid(schemaName, "the answer was cut off at the token limit (finish_reason=length); raise Content:OpenAI:MaxOutputTokens or lower MaxTranscriptChars");
        }

        if (completion.FinishReason == ChatFinishReason.ContentFilter)
        {
            throw Invalid(schemaName, "the answer was blocked by the provider's content filter");
        }

        var text = string.Concat(completion.Content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Invalid(schemaName, "the answer is empty");
        }

        return (text, string.IsNullOrWhiteSpace(completion.Model) ? _options.Model : completion.Model);
    }

    /// <summary>The transcript as sent to the model: speaker turns when known, cut to MaxTranscriptChars at a word boundary.</summary>
    internal string PrepareTranscript(Transcript transcript)
    {
        string text;
        if (transcript.Segments.Any(s => s.Speaker is not null))
        {
            var builder = new StringBuilder();
            string? current = null;
            foreach (var segment in transcript.Segments)
            {
                if (segment.Speaker != current || builder.Length == 0)
                {
                    current = segment.Speaker;
                    builder.Append(builder.Length == 0 ? "" : "\n").Append(current ?? "Unknown").Append(':');
                }

                builder.Append(' ').Append(segment.Text.Trim());
            }

            text = builder.ToString();
        }
        else
        {
            text = string.IsNullOrWhiteSpace(transcript.Text) ? string.Join(' ', transcript.Segments.Select(s => s.Text.Trim())) : transcript.Text.Trim();
        }

        var max = Math.Max(1, _options.MaxTranscriptChars);
        if (text.Length <= max)
        {
            return text;
        }

        var cut = text[..max];
        var space = cut.LastIndexOfAny([' ', '\n']);
        return (space > max / 2 ? cut[..space] : cut) + "\n[transcript truncated]";
    }

    private static JsonDocument ParseObject(string json, string what)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw Invalid(what, $"the answer is not valid JSON ({e.Message})");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw Invalid(what, "the answer is not a JSON object");
        }

        return document;
    }

    private static string RequireString(JsonElement parent, string property, string what, string? path = null)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Invalid(what, $"'{path ?? property}' is missing");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Invalid(what, $"'{path ?? property}' must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}");
        }

        var text = value.GetString()!;
        return string.IsNullOrWhiteSpace(text) ? throw Invalid(what, $"'{path ?? property}' is empty") : text;
    }

    private static List<string> RequireStrings(JsonElement parent, string property, string what)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw Invalid(what, $"'{property}' is missing");
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(i => i.ValueKind != JsonValueKind.String))
        {
            throw Invalid(what, $"'{property}' must be an array of strings");
        }

        return value.EnumerateArray().Select(i => i.GetString()!).ToList();
    }

    // The schemas are written indented for reading and sent without the whitespace.
    private static BinaryData Compact(string json) => BinaryData.FromString(JsonNode.Parse(json)!.ToJsonString());

    private static StepException Invalid(string what, string problem) => StepException.Permanent($"OpenAI {what} response is invalid: {problem}.");

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..max] + "...";
}
