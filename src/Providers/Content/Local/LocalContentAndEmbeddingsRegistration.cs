using MediaActors.Providers.Search.Local;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Content.Local;

/// <summary>Registers the embedded content generator and embedders, which need no network (the sentence model ships in its package).</summary>
public static class LocalContentAndEmbeddingsRegistration
{
    /// <summary>
    /// Adds <see cref="ExtractiveContentGenerator"/>, <see cref="MiniLmEmbedder"/> and <see cref="HashedTfIdfEmbedder"/> as
    /// singletons (concrete types; the provider selection maps them to the interfaces). The hashed embedder's dimensions
    /// come from "Embeddings:Local".
    /// </summary>
    public static IServiceCollection AddLocalContentAndEmbeddings(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<LocalEmbeddingOptions>()
            .Bind(configuration.GetSection(LocalEmbeddingOptions.SectionName))
            .Validate(
                o => o.Dimensions is >= HashedTfIdfEmbedder.MinDimensions and <= HashedTfIdfEmbedder.MaxDimensions,
                $"{LocalEmbeddingOptions.SectionName}:Dimensions must be between {HashedTfIdfEmbedder.MinDimensions} and {HashedTfIdfEmbedder.MaxDimensions}.");
        // The sentence model picks summaries and key points that cover more of a talk (docs/BENCHMARKS.md, "Key points");
        // Content:Local:SentenceModel=false keeps the TF-IDF choice (and, with Embeddings:Provider=local-hashed, the model unloaded).
        services.TryAddSingleton(sp => configuration.GetValue("Content:Local:SentenceModel", true)
            ? new ExtractiveContentGenerator(sp.GetRequiredService<MiniLmEmbedder>(), sp.GetService<Microsoft.Extensions.Logging.ILogger<ExtractiveContentGenerator>>())
            : new ExtractiveContentGenerator());
        services.TryAddSingleton<MiniLmEmbedder>();
        services.TryAddSingleton(sp => new HashedTfIdfEmbedder(sp.GetRequiredService<IOptions<LocalEmbeddingOptions>>().Value));
        return services;
    }
}
