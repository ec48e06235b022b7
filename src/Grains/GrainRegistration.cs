using MediaActors.Grains.Content;
using MediaActors.Grains.Content.Local;
using MediaActors.Grains.Content.OpenAi;
using MediaActors.Grains.Ingestion;
using MediaActors.Grains.Media;
using MediaActors.Grains.Projects;
using MediaActors.Grains.Search;
using MediaActors.Grains.Search.Local;
using MediaActors.Grains.Search.OpenAi;
using MediaActors.Grains.Storage;
using MediaActors.Grains.Transcription;
using MediaActors.Grains.Transcription.Local;
using MediaActors.Grains.Transcription.OpenAi;
using MediaActors.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MediaActors.Grains;

/// <summary>The composition root of the product: providers chosen by configuration, grains and workers.</summary>
public static class GrainRegistration
{
    /// <summary>Providers every host needs: blob store, media tools, ingestion, the three AI providers and the read-model migrations.</summary>
    public static IServiceCollection AddMediaActorsProviders(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(BlobStore)))
        {
            return services;
        }

        var blobs = configuration.GetConnectionString("Blobs")
            ?? throw new InvalidOperationException("ConnectionStrings:Blobs is not set (environment variable ConnectionStrings__Blobs).");
        services.AddSingleton(new BlobStore(blobs));
        services.AddSingleton(new MigrationAssembly(typeof(GrainRegistration).Assembly));
        services.AddOptions<MediaOptions>().Bind(configuration.GetSection("Media"));
        services.AddOptions<ProjectOptions>().Bind(configuration.GetSection("Projects"));
        services.TryAddSingleton<MediaTools>();
        services.TryAddSingleton<ProjectReads>();
        services.AddIngestion(configuration);
        services.AddLocalTranscriber(configuration);
        services.AddLocalContentAndEmbeddings(configuration);
        services.AddOpenAiProviders(configuration);

        // "local" (the embedded default, no account needed) or "openai" (any OpenAI-compatible endpoint).
        services.AddSingleton<ITranscriber>(sp => Choose<ITranscriber>(configuration, "Transcription",
            () => sp.GetRequiredService<LocalTranscriber>(), () => sp.GetRequiredService<OpenAiTranscriber>()));
        services.AddSingleton<IContentGenerator>(sp => Choose<IContentGenerator>(configuration, "Content",
            () => sp.GetRequiredService<ExtractiveContentGenerator>(), () => sp.GetRequiredService<OpenAiContentGenerator>()));
        services.AddSingleton<IEmbedder>(sp => Choose<IEmbedder>(configuration, "Embeddings",
            () => sp.GetRequiredService<HashedTfIdfEmbedder>(), () => sp.GetRequiredService<OpenAiEmbedder>()));
        return services;
    }

    /// <summary>Every product grain and worker.</summary>
    public static SiloBuilder AddMediaActorsGrains(this SiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddMediaActorsProviders(configuration);
        silo.Services.AddOptions<UploadExpiryOptions>().Bind(configuration.GetSection("Uploads"));
        silo.Services.AddSingleton<UploadExpiryService>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<UploadExpiryService>());
        return silo
            .AddGrain<IProjectGrain, ProjectGrain>()
            .AddWorker<IngestWorker>(WorkKinds.Ingest)
            .AddWorker<MediaWorker>(WorkKinds.Media)
            .AddWorker<TranscribeWorker>(WorkKinds.Transcribe)
            .AddWorker<AnalyzeWorker>(WorkKinds.Analyze)
            .AddWorker<GenerateWorker>(WorkKinds.Generate)
            .AddWorker<EmbedWorker>(WorkKinds.Embed)
            .AddWorker<CleanupWorker>(WorkKinds.Cleanup);
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
