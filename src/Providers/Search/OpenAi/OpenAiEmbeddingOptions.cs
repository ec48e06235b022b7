using MediaActors.Providers.OpenAi;

namespace MediaActors.Providers.Search.OpenAi;

/// <summary>Settings of the OpenAI-compatible embedder (section "Embeddings:OpenAI").</summary>
public sealed class OpenAiEmbeddingOptions : OpenAiUseOptions
{
    public const string SectionName = "Embeddings:OpenAI";

    public override string Model { get; set; } = "text-embedding-3-small";

    /// <summary>Length of every vector; sent as "dimensions" (text-embedding-3 models can shorten their vectors).</summary>
    public int Dimensions { get; set; } = 1536;

    /// <summary>How many texts go in one request.</summary>
    public int BatchSize { get; set; } = 64;
}
