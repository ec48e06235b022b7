using MediaActors.Grains.Maintenance;
using MediaActors.Grains.Projects;
using MediaActors.Grains.Publish;
using MediaActors.Grains.Search;
using MediaActors.Grains.Videos;
using MediaActors.Providers;
using MediaActors.Providers.Search.Local;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MediaActors.Grains;

/// <summary>What a silo needs besides Orleans itself: the providers, the grains' services, the steps and the periodic jobs.</summary>
public static class GrainRegistration
{
    public static IServiceCollection AddMediaActorsGrains(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMediaActorsProviders(configuration);
        services.AddSentenceModelPreload(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ProjectOptions>().Bind(configuration.GetSection("Projects"));
        services.AddOptions<UploadExpiryOptions>().Bind(configuration.GetSection("Uploads"));
        services.AddOptions<EventOptions>().Bind(configuration.GetSection("Events"));
        services.AddSingleton<ProjectReads>();
        services.AddSingleton<IProjectStore, ProjectStore>();
        services.AddOptions<PublishOptions>().Bind(configuration.GetSection("Publish"));
        services.AddSingleton<IPublishStore, PublishStore>();
        services.AddTransient<Publisher>();
        services.AddSingleton<IVideoStore, VideoStore>();
        services.AddTransient<VideoWorker>();
        services.AddSingleton<StepRunner>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<StepRunner>());

        // Each step's implementation, found by the step of the attempt.
        services.AddKeyedSingleton<IProjectStep, IngestStep>(ProjectStep.Downloading);
        services.AddKeyedSingleton<IProjectStep, MediaStep>(ProjectStep.ExtractingAudio);
        services.AddKeyedSingleton<IProjectStep>(ProjectStep.Uploading, (sp, _) => sp.GetRequiredKeyedService<IProjectStep>(ProjectStep.ExtractingAudio));
        services.AddKeyedSingleton<IProjectStep, TranscribeStep>(ProjectStep.Transcribing);
        services.AddKeyedSingleton<IProjectStep, AnalyzeStep>(ProjectStep.Analyzing);
        services.AddKeyedSingleton<IProjectStep, GenerateStep>(ProjectStep.GeneratingContent);
        services.AddKeyedSingleton<IProjectStep, EmbedStep>(ProjectStep.GeneratingEmbeddings);

        services.AddSingleton<UploadExpiryService>();
        services.AddHostedService(sp => sp.GetRequiredService<UploadExpiryService>());
        services.AddSingleton<EventRetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<EventRetentionService>());
        services.AddOptions<IdempotencyKeyExpiryOptions>().Bind(configuration.GetSection("Idempotency"));
        services.AddSingleton<IdempotencyKeyExpiryService>();
        services.AddHostedService(sp => sp.GetRequiredService<IdempotencyKeyExpiryService>());
        services.AddOptions<SearchOptions>().Bind(configuration.GetSection("Search"));
        services.AddSingleton<ReembeddingService>();
        services.AddHostedService(sp => sp.GetRequiredService<ReembeddingService>());
        return services;
    }
}
