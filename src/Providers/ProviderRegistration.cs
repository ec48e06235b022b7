using MediaActors.Providers.Avatar;
using MediaActors.Providers.Content;
using MediaActors.Providers.Content.Local;
using MediaActors.Providers.Content.OpenAi;
using MediaActors.Providers.Google;
using MediaActors.Providers.Ingestion;
using MediaActors.Providers.Media;
using MediaActors.Providers.Search;
using MediaActors.Providers.Search.Local;
using MediaActors.Providers.Search.OpenAi;
using MediaActors.Providers.Storage;
using MediaActors.Providers.Transcription;
using MediaActors.Providers.Transcription.Local;
using MediaActors.Providers.Transcription.OpenAi;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MediaActors.Providers;

/// <summary>The providers, chosen by configuration: blob store, media tools, ingestion, and the three AI providers.</summary>
public static class ProviderRegistration
{
    /// <summary>Registers every provider once; "local" (the embedded default) or "openai" per concern.</summary>
    public static IServiceCollection AddMediaActorsProviders(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(BlobStore)))
        {
            return services;
        }

        var blobs = configuration.GetConnectionString("Blobs")
            ?? throw new InvalidOperationException("ConnectionStrings:Blobs is not set (environment variable ConnectionStrings__Blobs).");
        services.AddSingleton(new BlobStore(blobs));
        services.AddOptions<MediaOptions>().Bind(configuration.GetSection("Media"));
        services.TryAddSingleton<MediaTools>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<HandOver>();
        services.AddIngestion(configuration);
        services.AddLocalTranscriber(configuration);
        services.AddLocalContentAndEmbeddings(configuration);
        services.AddOpenAiProviders(configuration);
        services.AddGoogleClients(configuration);
        services.AddAvatarGenerator(configuration);

        services.AddSingleton<ITranscriber>(sp => Choose<ITranscriber>(configuration, "Transcription",
            () => sp.GetRequiredService<LocalTranscriber>(), () => sp.GetRequiredService<OpenAiTranscriber>()));
        services.AddSingleton<IContentGenerator>(sp => Choose<IContentGenerator>(configuration, "Content",
            () => sp.GetRequiredService<ExtractiveContentGenerator>(), () => sp.GetRequiredService<OpenAiContentGenerator>()));
        // "local" is the sentence model; "local-hashed", the earlier hashed TF-IDF embedding, stays for comparison.
        services.AddSingleton<IEmbedder>(sp => (configuration["Embeddings:Provider"] ?? "local").ToLowerInvariant() == "local-hashed"
            ? sp.GetRequiredService<HashedTfIdfEmbedder>()
            : Choose<IEmbedder>(configuration, "Embeddings", () => sp.GetRequiredService<MiniLmEmbedder>(), () => sp.GetRequiredService<OpenAiEmbedder>()));
        return services;
    }

    private static T Choose<T>(IConfiguration configuration, string section, Func<T> local, Func<T> openAi)
    {
        var provider = configuration[$"{section}:Provider"] ?? "local";
        return provider.ToLowerInvariant() switch
        {
            "local" => local(),
            "openai" => openAi(),
            _ => throw new InvalidOperationException($"{section}:Provider must be 'local' or 'openai', not '{provider}'."),
        };
    }
}
