using MediaActors.Grains.Projects;
using MediaActors.Providers;
using MediaActors.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MediaActors.Grains;

/// <summary>The composition root of the product: providers, read-model migrations, grains and workers.</summary>
public static class GrainRegistration
{
    /// <summary>What every host needs: the providers, the read-model migrations and the project options.</summary>
    public static IServiceCollection AddMediaActorsProjects(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMediaActorsProviders(configuration);
        if (services.Any(s => s.ServiceType == typeof(ProjectReads)))
        {
            return services;
        }

        services.AddSingleton(new MigrationAssembly(typeof(GrainRegistration).Assembly));
        services.AddOptions<ProjectOptions>().Bind(configuration.GetSection("Projects"));
        services.TryAddSingleton<ProjectReads>();
        return services;
    }

    /// <summary>Every product grain and worker.</summary>
    public static SiloBuilder AddMediaActorsGrains(this SiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddMediaActorsProjects(configuration);
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
}
