namespace MediaActors.Providers.Search.Local;

/// <summary>
/// The embedded embedding: no model, no network. Features are content words, adjacent word pairs and character
/// trigrams of words (which keep a misrecognised word close to the right one); each is hashed (FNV-1a, stable across
/// processes and machines) into one of <see cref="Dimensions"/> buckets with a hashed sign, weighted by sublinear
/// term frequency times a fixed word weight, and the vector is L2-normalised. Empty text gives the zero vector.
/// </summary>
public sealed class HashedTfIdfEmbedder : IEmbedder
{
    public const string ProviderName = "local-hashed";
    public const string ModelName = "hashed-tfidf-v1";
    public const int DefaultDimensions = 512;
    public const int MinDimensions = 16;
    public const int MaxDimensions = 16384;

    private const double PairWeight = 0.6;
    private const double TrigramWeight = 0.3;
    private const int MinTrigramWordLength = 4;

    public HashedTfIdfEmbedder(int dimensions = DefaultDimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, MinDimensions);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimensions, MaxDimensions);
        Dimensions = dimensions;
    }

    public HashedTfIdfEmbedder(LocalEmbeddingOptions options)
        : this(options?.Dimensions ?? DefaultDimensions)
    {
    }

    public string Name => ProviderName;

    public string Model => ModelName;

    public int Dimensions { get; }

    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var vectors = new float[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            vectors[i] = Embed(texts[i]);
        }

        return Task.FromResult<IReadOnlyList<float[]>>(vectors);
    }

    /// <summary>The vector of one text.</summary>
    public float[] Embed(string? text)
    {
        var features = new Dictionary<string, (int Count, double Weight)>(StringComparer.Ordinal);
        var tokens = HashedTfIdfFeatures.Tokens(text);
        for (var i = 0; i < tokens.Count; i++)
        {
            var word = tokens[i];
            var weight = HashedTfIdfFeatures.WordWeight(word);
            Add("w|" + word, weight);
            if (i > 0)
            {
                Add("b|" + tokens[i - 1] + " " + word, PairWeight * Math.Sqrt(HashedTfIdfFeatures.WordWeight(tokens[i - 1]) * weight));
            }

            if (word.Length >= MinTrigramWordLength)
            {
                foreach (var trigram in HashedTfIdfFeatures.Trigrams(word))
                {
                    Add("c|" + trigram, TrigramWeight);
                }
            }
        }

        var sums = new double[Dimensions];

        // Ordinal order makes the floating-point sums, and so the stored vector, independent of dictionary layout.
        foreach (var (feature, (count, weight)) in features.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var hash = HashedTfIdfFeatures.Hash(feature);
            var bucket = (int)((uint)hash % (uint)Dimensions);
            var sign = (hash >> 63) == 0 ? 1.0 : -1.0;
            sums[bucket] += sign * (1 + Math.Log(count)) * weight;
        }

        var norm = Math.Sqrt(sums.Sum(v => v * v));
        var vector = new float[Dimensions];
        if (norm > 0 && double.IsFinite(norm))
        {
            for (var d = 0; d < Dimensions; d++)
            {
                vector[d] = (float)(sums[d] / norm);
            }
        }

        return vector;

        void Add(string feature, double weight)
        {
            var (count, _) = features.GetValueOrDefault(feature);
            features[feature] = (count + 1, weight);
        }
    }
}
