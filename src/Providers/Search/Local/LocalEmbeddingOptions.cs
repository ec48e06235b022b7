namespace MediaActors.Providers.Search.Local;

/// <summary>Settings of the embedded embedding, bound from <see cref="SectionName"/>.</summary>
public sealed class LocalEmbeddingOptions
{
    public const string SectionName = "Embeddings:Local";

    /// <summary>Vector length, from 16 to 16384. Changing it makes stored vectors incomparable: re-embed after a change.</summary>
    public int Dimensions { get; set; } = HashedTfIdfEmbedder.DefaultDimensions;
}
