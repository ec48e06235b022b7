using System.Text.Json.Nodes;
using MediaActors.Providers.Content;
using MediaActors.Providers.Content.OpenAi;
using MediaActors.Providers.OpenAi;
using MediaActors.Providers.Tests.Fakes;
using MediaActors.Providers.Transcription;

namespace MediaActors.Providers.Tests.OpenAi;

public sealed class OpenAiContentGeneratorTests : IAsyncLifetime
{
    private const string ChatPath = "/v1/chat/completions";
    private static readonly Transcript _transcript = new(
        "en",
        "Welcome to this video about building reliable media pipelines. We extract the audio track and transcribe it. Pipelines retry when the network fails.",
        [new TranscriptSegment(0, 5, "Welcome to this video about building reliable media pipelines."), new TranscriptSegment(5, 9, "We extract the audio track and transcribe it.")],
        "local-pocketsphinx",
        "en-us");

    private static readonly Analysis _analysis = new("A video about pipelines.", ["pipelines", "audio"], "positive", 0.5, "Technology", "openai", "gpt-4o-mini");

    private FakeOpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Analyze_sends_a_strict_json_schema_named_analysis_and_parses_the_answer()
    {
        var options = new OpenAiContentOptions { AnalysisPrompt = "Analyse this carefully." };

        var analysis = await Generator(options).AnalyzeAsync("Reliable pipelines", _transcript, CancellationToken.None);

        var request = Assert.Single(_server.RequestsTo(ChatPath));
        Assert.True(request.Authorized);
        Assert.Equal("Bearer [redacted]", request.Headers["Authorization"]);
        var body = request.Json!;
        Assert.Equal("gpt-4o-mini", (string?)body["model"]);
        Assert.Equal("json_schema", (string?)body["response_format"]!["type"]);
        var schema = body["response_format"]!["json_schema"]!;
        Assert.Equal(OpenAiContentGenerator.AnalysisSchemaName, request.SchemaName);
        Assert.Equal("analysis", (string?)schema["name"]);
        Assert.True((bool?)schema["strict"]);
        Assert.Equal(["summary", "topics", "sentiment", "category"], schema["schema"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["positive", "neutral", "negative", "mixed"], schema["schema"]!["properties"]!["sentiment"]!["properties"]!["label"]!["enum"]!.AsArray().Select(x => (string?)x));
        var messages = body["messages"]!.AsArray();
        Assert.Equal("system", (string?)messages[0]!["role"]);
        Assert.Contains("Analyse this carefully.", MessageText(messages[0]!));
        Assert.Equal("user", (string?)messages[1]!["role"]);
        Assert.Contains("Video title: Reliable pipelines", MessageText(messages[1]!));
        Assert.Contains(_transcript.Text, MessageText(messages[1]!));

        Assert.Equal("Welcome to this video about building reliable media pipelines. We extract the audio track and transcribe it.", analysis.Summary);
        Assert.Equal(["pipelines", "building", "extract"], analysis.Topics);
        Assert.Equal("positive", analysis.SentimentLabel);
        Assert.Equal(0.4, analysis.SentimentScore);
        Assert.Equal("Education", analysis.Category);
        Assert.Equal("openai", analysis.Provider);
        Assert.Equal("gpt-4o-mini", analysis.Model);
    }

    [Fact]
    public async Task Generate_sends_a_strict_json_schema_named_content_with_the_configured_prompts_and_parses_the_answer()
    {
        var options = new OpenAiContentOptions { Model = "gpt-4.1", BlogPrompt = "BLOG-PROMPT", XThreadPrompt = "X-PROMPT", LinkedInPrompt = "LINKEDIN-PROMPT" };

        var content = await Generator(options).GenerateAsync("Reliable pipelines", _transcript, _analysis, CancellationToken.None);

        var request = Assert.Single(_server.RequestsTo(ChatPath));
        var schema = request.Json!["response_format"]!["json_schema"]!;
        Assert.Equal("content", request.SchemaName);
        Assert.True((bool?)schema["strict"]);
        Assert.Equal(["title", "blogPostMarkdown", "xThread", "linkedInPost"], schema["schema"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal("gpt-4.1", (string?)request.Json!["model"]);
        var system = MessageText(request.Json!["messages"]![0]!);
        Assert.Contains("BLOG-PROMPT", system);
        Assert.Contains("X-PROMPT", system);
        Assert.Contains("LINKEDIN-PROMPT", system);
        Assert.Contains("Summary: A video about pipelines.", MessageText(request.Json!["messages"]![1]!));

        Assert.Equal("Reliable pipelines: what you need to know", content.Title);
        Assert.StartsWith("## Introduction", content.BlogPostMarkdown);
        Assert.Equal(3, content.XThread.Count);
        Assert.All(content.XThread, post => Assert.InRange(post.Length, 1, 280));
        Assert.Contains("What do you think?", content.LinkedInPost);
        Assert.Equal("openai", content.Provider);
        Assert.Equal("gpt-4.1", content.Model);
    }

    [Fact]
    public async Task The_transcript_is_cut_to_MaxTranscriptChars()
    {
        var longText = string.Join(' ', Enumerable.Repeat("pipeline", 500));
        var transcript = _transcript with { Text = longText };

        await Generator(new OpenAiContentOptions { MaxTranscriptChars = 100 }).AnalyzeAsync("t", transcript, CancellationToken.None);

        var user = MessageText(Assert.Single(_server.RequestsTo(ChatPath)).Json!["messages"]![1]!);
        var sent = user[(user.IndexOf("Transcript:\n", StringComparison.Ordinal) + 12)..];
        Assert.EndsWith("\n[transcript truncated]", sent);
        Assert.InRange(sent.Length, 50, 100 + "\n[transcript truncated]".Length);
    }

    [Fact]
    public async Task Speaker_labels_are_sent_as_turns()
    {
        var transcript = _transcript with
        {
            Segments = [new TranscriptSegment(0, 2, "Hi.", "A"), new TranscriptSegment(2, 4, "Hello.", "B"), new TranscriptSegment(4, 5, "Bye.", "B")],
        };

        await Generator().AnalyzeAsync("t", transcript, CancellationToken.None);

        var user = MessageText(Assert.Single(_server.RequestsTo(ChatPath)).Json!["messages"]![1]!);
        Assert.EndsWith("Transcript:\nA: Hi.\nB: Hello. Bye.", user);
    }

    [Theory]
    [InlineData("""{"topics":[],"sentiment":{"label":"neutral","score":0},"category":"x"}""", "'summary' is missing")]
    [InlineData("""{"summary":42,"topics":[],"sentiment":{"label":"neutral","score":0},"category":"x"}""", "'summary' must be a string")]
    [InlineData("""{"summary":"s","topics":"a, b","sentiment":{"label":"neutral","score":0},"category":"x"}""", "'topics' must be an array of strings")]
    [InlineData("""{"summary":"s","topics":[],"sentiment":{"label":"happy","score":0},"category":"x"}""", "'sentiment.label' must be one of")]
    [InlineData("""{"summary":"s","topics":[],"sentiment":{"label":"neutral","score":"high"},"category":"x"}""", "'sentiment.score' must be a number")]
    [InlineData("""{"summary":"s","topics":[],"sentiment":"good","category":"x"}""", "'sentiment' must be an object")]
    [InlineData("""not json at all""", "not valid JSON")]
    [InlineData("""["summary"]""", "not a JSON object")]
    public async Task An_invalid_analysis_answer_is_a_permanent_failure(string answer, string problem)
    {
        _server.EnqueueChatContent(answer);

        var error = await Assert.ThrowsAsync<StepException>(() => Generator().AnalyzeAsync("t", _transcript, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.StartsWith("OpenAI analysis response is invalid:", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Theory]
    [InlineData("""{"title":"t","blogPostMarkdown":"b","linkedInPost":"l"}""", "'xThread' is missing")]
    [InlineData("""{"title":"t","blogPostMarkdown":"b","xThread":[],"linkedInPost":"l"}""", "'xThread' has no posts")]
    [InlineData("""{"title":"t","blogPostMarkdown":"b","xThread":[1,2],"linkedInPost":"l"}""", "'xThread' must be an array of strings")]
    [InlineData("""{"title":"t","blogPostMarkdown":"","xThread":["x"],"linkedInPost":"l"}""", "'blogPostMarkdown' is empty")]
    public async Task An_invalid_content_answer_is_a_permanent_failure(string answer, string problem)
    {
        _server.EnqueueChatContent(answer);

        var error = await Assert.ThrowsAsync<StepException>(() => Generator().GenerateAsync("t", _transcript, _analysis, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.StartsWith("OpenAI content response is invalid:", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public async Task A_refusal_is_a_permanent_failure()
    {
        _server.EnqueueChatRefusal("I can't help with that.");

        var error = await Assert.ThrowsAsync<StepException>(() => Generator().AnalyzeAsync("t", _transcript, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Contains("the model refused: I can't help with that.", error.Message);
    }

    [Fact]
    public async Task An_answer_cut_off_at_the_token_limit_is_a_permanent_failure()
    {
        _server.EnqueueChatContent("""{"summary":"s","top""", finishReason: "length");

        var error = await Assert.ThrowsAsync<StepException>(() => Generator().AnalyzeAsync("t", _transcript, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Contains("finish_reason=length", error.Message);
    }

    [Fact]
    public async Task Scores_are_clamped_labels_normalised_and_long_x_posts_shortened()
    {
        _server.EnqueueChatContent("""{"summary":" s ","topics":["a"," A ",""],"sentiment":{"label":"Mixed","score":1.7},"category":"c"}""");
        var longPost = string.Join(' ', Enumerable.Repeat("word", 80));
        _server.EnqueueChatContent($$"""{"title":"t","blogPostMarkdown":"b","xThread":["{{longPost}}","short"],"linkedInPost":"l"}""");

        var analysis = await Generator().AnalyzeAsync("t", _transcript, CancellationToken.None);
        var content = await Generator().GenerateAsync("t", _transcript, analysis, CancellationToken.None);

        Assert.Equal("s", analysis.Summary);
        Assert.Equal(["a"], analysis.Topics);
        Assert.Equal("mixed", analysis.SentimentLabel);
        Assert.Equal(1.0, analysis.SentimentScore);
        Assert.InRange(content.XThread[0].Length, 200, 280);
        Assert.EndsWith("word…", content.XThread[0]);
        Assert.Equal("short", content.XThread[1]);
    }

    [Theory]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(400, false)]
    [InlineData(404, false)]
    [InlineData(422, false)]
    public async Task Http_failures_become_step_exceptions(int status, bool transient)
    {
        _server.FailNext(1, status);

        var error = await Assert.ThrowsAsync<StepException>(() => Generator().AnalyzeAsync("t", _transcript, CancellationToken.None));

        Assert.Equal(transient, error.Transient);
        Assert.StartsWith($"OpenAI chat completion request failed with HTTP {status}", error.Message);
        Assert.DoesNotContain(_server.ApiKey, error.ToString());
    }

    [Fact]
    public async Task Exhausted_quota_is_permanent_even_though_it_is_a_429()
    {
        _server.FailNext(1, 429, errorCode: "insufficient_quota");

        var error = await Assert.ThrowsAsync<StepException>(() => Generator().AnalyzeAsync("t", _transcript, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.Contains("no quota left", error.Message);
    }

    [Fact]
    public async Task A_wrong_key_is_permanent_and_the_message_never_contains_the_key()
    {
        const string wrongKey = "wrong-key-7d2e9b41";
        var generator = new OpenAiContentGenerator(new OpenAiOptions { Endpoint = _server.Endpoint, ApiKey = wrongKey }, new OpenAiContentOptions());

        var error = await Assert.ThrowsAsync<StepException>(() => generator.AnalyzeAsync("t", _transcript, CancellationToken.None));

        Assert.False(error.Transient);
        Assert.StartsWith("OpenAI chat completion request failed with HTTP 401 Unauthorized: Incorrect API key provided: [redacted].", error.Message);
        Assert.Contains("check OpenAI:ApiKey", error.Message);
        Assert.DoesNotContain(wrongKey, error.ToString());
        var request = Assert.Single(_server.Requests);
        Assert.False(request.Authorized);
        Assert.DoesNotContain(wrongKey, string.Join("\n", request.Headers.Select(h => h.Key + h.Value)));
    }

    [Fact]
    public void Redaction_removes_the_key_bearer_tokens_and_anything_shaped_like_an_openai_key()
    {
        var text = OpenAiFailure.Redact("key my-secret; Authorization: Bearer abc.def here; sk-proj-AbCdEf0123456789 and sk-abc***wxyz end", "my-secret");

        Assert.Equal("key [redacted]; Authorization: Bearer [redacted] here; [redacted] and [redacted] end", text);
    }

    [Fact]
    public async Task A_per_use_key_and_endpoint_override_the_shared_ones()
    {
        var generator = new OpenAiContentGenerator(
            new OpenAiOptions { Endpoint = new Uri("http://127.0.0.1:9/v1") },
            new OpenAiContentOptions { Endpoint = _server.Endpoint, ApiKey = _server.ApiKey });

        Assert.True(generator.IsConfigured);
        await generator.AnalyzeAsync("t", _transcript, CancellationToken.None);
        Assert.True(Assert.Single(_server.Requests).Authorized);
    }

    [Fact]
    public async Task A_timeout_is_transient()
    {
        _server.DelayNext(1, TimeSpan.FromSeconds(30));
        var generator = new OpenAiContentGenerator(new OpenAiOptions { Endpoint = _server.Endpoint, ApiKey = _server.ApiKey, TimeoutSeconds = 1 }, new OpenAiContentOptions());

        var error = await Assert.ThrowsAsync<StepException>(() => generator.AnalyzeAsync("t", _transcript, CancellationToken.None));

        Assert.True(error.Transient);
        Assert.Contains("timed out", error.Message);
    }

    [Fact]
    public async Task An_unreachable_server_is_transient()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var generator = new OpenAiContentGenerator(new OpenAiOptions { Endpoint = new Uri($"http://127.0.0.1:{port}/v1"), ApiKey = _server.ApiKey }, new OpenAiContentOptions());

        var error = await Assert.ThrowsAsync<StepException>(() => generator.AnalyzeAsync("t", _transcript, CancellationToken.None));

        Assert.True(error.Transient);
        Assert.Contains("could not reach the API", error.Message);
        Assert.DoesNotContain(_server.ApiKey, error.ToString());
    }

    [Fact]
    public async Task Cancellation_is_not_turned_into_a_step_exception()
    {
        _server.DelayNext(1, TimeSpan.FromSeconds(30));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Generator().AnalyzeAsync("t", _transcript, cancellation.Token));
    }

    private OpenAiContentGenerator Generator(OpenAiContentOptions? options = null) =>
        new(new OpenAiOptions { Endpoint = _server.Endpoint, ApiKey = _server.ApiKey }, options ?? new OpenAiContentOptions());

    private static string MessageText(JsonNode message) => message["content"] switch
    {
        JsonValue value => (string)value!,
        JsonArray parts => string.Concat(parts.Select(p => (string?)p!["text"])),
        _ => "",
    };
}
