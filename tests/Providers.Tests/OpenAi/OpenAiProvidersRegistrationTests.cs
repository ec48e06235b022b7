using MediaActors.Providers.Content;
using MediaActors.Providers.Content.OpenAi;
using MediaActors.Providers.OpenAi;
using MediaActors.Providers.Search;
using MediaActors.Providers.Search.OpenAi;
using MediaActors.Providers.Transcription;
using MediaActors.Providers.Transcription.OpenAi;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Tests.OpenAi;

public sealed class OpenAiProvidersRegistrationTests
{
    [Fact]
    public void Registers_the_three_providers_as_concrete_singletons_with_defaults()
    {
        using var services = Build(new Dictionary<string, string?>());

        var transcriber = services.GetRequiredService<OpenAiTranscriber>();
        Assert.Same(transcriber, services.GetRequiredService<OpenAiTranscriber>());
        Assert.False(transcriber.IsConfigured);
        Assert.Equal("whisper-1", transcriber.Model);
        Assert.Equal("gpt-4o-mini", services.GetRequiredService<OpenAiContentGenerator>().Model);
        var embedder = services.GetRequiredService<OpenAiEmbedder>();
        Assert.Equal("text-embedding-3-small", embedder.Model);
        Assert.Equal(1536, embedder.Dimensions);

        Assert.Null(services.GetService<ITranscriber>());
        Assert.Null(services.GetService<IContentGenerator>());
        Assert.Null(services.GetService<IEmbedder>());

        var shared = services.GetRequiredService<IOptions<OpenAiOptions>>().Value;
        Assert.Equal(new Uri("https://api.openai.com/v1"), shared.Endpoint);
        Assert.False(shared.IsConfigured);
        var transcription = services.GetRequiredService<IOptions<OpenAiTranscriptionOptions>>().Value;
        Assert.Equal(26_214_400, transcription.MaxUploadBytes);
        Assert.Equal(600, transcription.ChunkSeconds);
        Assert.Equal(3, transcription.Parallelism);
        Assert.Equal("ffmpeg", transcription.FfmpegPath);
        var content = services.GetRequiredService<IOptions<OpenAiContentOptions>>().Value;
        Assert.False(string.IsNullOrWhiteSpace(content.AnalysisPrompt));
        Assert.False(string.IsNullOrWhiteSpace(content.BlogPrompt));
        Assert.False(string.IsNullOrWhiteSpace(content.XThreadPrompt));
        Assert.False(string.IsNullOrWhiteSpace(content.LinkedInPrompt));
        Assert.Equal(64, services.GetRequiredService<IOptions<OpenAiEmbeddingOptions>>().Value.BatchSize);
    }

    [Fact]
    public void Binds_every_section()
    {
        using var services = Build(new Dictionary<string, string?>
        {
            ["OpenAI:Endpoint"] = "http://127.0.0.1:8000/v1",
            ["OpenAI:ApiKey"] = "k",
            ["Media:FfmpegPath"] = "/opt/ffmpeg/bin/ffmpeg",
            ["Transcription:OpenAI:Model"] = "gpt-4o-transcribe",
            ["Transcription:OpenAI:MaxUploadBytes"] = "1000",
            ["Transcription:OpenAI:ChunkSeconds"] = "30",
            ["Transcription:OpenAI:Parallelism"] = "5",
            ["Content:OpenAI:Model"] = "gpt-4.1-mini",
            ["Content:OpenAI:BlogPrompt"] = "Write short.",
            ["Content:OpenAI:MaxTranscriptChars"] = "5000",
            ["Embeddings:OpenAI:Model"] = "text-embedding-3-large",
            ["Embeddings:OpenAI:Dimensions"] = "3072",
            ["Embeddings:OpenAI:BatchSize"] = "16",
        });

        Assert.True(services.GetRequiredService<OpenAiTranscriber>().IsConfigured);
        Assert.Equal(new Uri("http://127.0.0.1:8000/v1"), services.GetRequiredService<IOptions<OpenAiOptions>>().Value.Endpoint);
        var transcription = services.GetRequiredService<IOptions<OpenAiTranscriptionOptions>>().Value;
        Assert.Equal(("gpt-4o-transcribe", 1000L, 30, 5, "/opt/ffmpeg/bin/ffmpeg"), (transcription.Model, transcription.MaxUploadBytes, transcription.ChunkSeconds, transcription.Parallelism, transcription.FfmpegPath));
        var content = services.GetRequiredService<IOptions<OpenAiContentOptions>>().Value;
        Assert.Equal(("gpt-4.1-mini", "Write short.", 5000), (content.Model, content.BlogPrompt, content.MaxTranscriptChars));
        var embedder = services.GetRequiredService<OpenAiEmbedder>();
        Assert.Equal(("text-embedding-3-large", 3072), (embedder.Model, embedder.Dimensions));
        Assert.Equal(16, services.GetRequiredService<IOptions<OpenAiEmbeddingOptions>>().Value.BatchSize);
    }

    private static ServiceProvider Build(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return new ServiceCollection().AddLogging().AddOpenAiProviders(configuration).BuildServiceProvider();
    }
}
