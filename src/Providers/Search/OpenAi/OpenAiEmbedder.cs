using MediaActors.Providers.OpenAi;
using OpenAI.Embeddings;

namespace MediaActors.Providers.Search.OpenAi;

/// <summary>Embeds texts with an OpenAI-compatible /embeddings endpoint, in batches, returning L2-normalised vectors in input order.</summary>
public sealed class OpenAiEmbedder : IEmbedder
{
    private readonly OpenAiEmbeddingOptions _options;
    private readonly OpenAiConnection _connection;

    public OpenAiEmbedder(OpenAiOptions openAi, OpenAiEmbeddingOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _connection = new OpenAiConnection(openAi, options, OpenAiEmbeddingOptions.SectionName);
    }

    public string Name => "openai";

    public string Model => _options.Model;

    public int Dimensions => _options.Dimensions;

    /// <summary>False without an API key: the composition root should then pick another embedder.</summary>
    public bool IsConfigured => _connection.IsConfigured;

    public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            return [];
        }

        var client = _connection.Client.GetEmbeddingClient(_options.Model);
        var options = new EmbeddingGenerationOptions { Dimensions = _options.Dimensions };
        var batchSize = Math.Max(1, _options.BatchSize);
        var vectors = new float[texts.Count][];
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            // The API rejects empty strings; a blank text gets the vector of a single space.
            var batch = texts.Skip(start).Take(batchSize).Select(t => string.IsNullOrWhiteSpace(t) ? " " : t).ToList();
            OpenAIEmbeddingCollection result;
            try
            {
                result = (await client.GenerateEmbeddingsAsync(batch, options, cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (Exception e) when (e is not StepException && !cancellationToken.IsCancellationRequested)
            {
                throw _connection.Failure(e, "embeddings");
            }

            if (result.Count != batch.Count)
            {
                throw StepException.Permanent($"OpenAI embeddings response is invalid: {result.Count} vectors for {batch.Count} texts.");
            }

            foreach (var embedding in result)
            {
                // Items carry their input index: order in the response is not relied upon.
                if (embedding.Index < 0 || embedding.Index >= batch.Count || vectors[start + embedding.Index] is not null)
                {
                    throw StepException.Permanent($"OpenAI embeddings response is invalid: unexpected index {embedding.Index}.");
                }

                var vector = embedding.ToFloats().ToArray();
                if (vector.Length != _options.Dimensions)
                {
                    throw StepException.Permanent($"OpenAI embeddings response has vectors of {vector.Length} dimensions, but Embeddings:OpenAI:Dimensions is {_options.Dimensions}.");
                }

                vectors[start + embedding.Index] = Normalise(vector);
            }
        }

        return vectors;
    }

    private static float[] Normalise(float[] vector)
    {
        double sum = 0;
        foreach (var value in vector)
        {
            sum += (double)value * value;
        }

        if (sum <= 0 || !double.IsFinite(sum))
        {
            return vector;
        }

        var scale = 1 / Math.Sqrt(sum);
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(vector[i] * scale);
        }

        return vector;
    }
}
