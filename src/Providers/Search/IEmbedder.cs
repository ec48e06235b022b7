namespace MediaActors.Providers.Search;

/// <summary>Turns texts into vectors for semantic search. Vectors of one embedder all have <see cref="Dimensions"/> entries and are L2-normalised.</summary>
public interface IEmbedder
{
    /// <summary>The provider's name as recorded with results ("local-hashed-tfidf", "openai").</summary>
    string Name { get; }

    string Model { get; }

    int Dimensions { get; }

    Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken);
}
