using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Transcription.Local;

/// <summary>Registers the embedded pocketsphinx transcriber.</summary>
public static class LocalTranscriberRegistration
{
    /// <summary>
    /// Binds "Transcription:Local" and adds <see cref="LocalTranscriber"/> as a singleton of its concrete type;
    /// the composition root decides whether it serves <see cref="ITranscriber"/>.
    /// </summary>
    public static IServiceCollection AddLocalTranscriber(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<LocalTranscriberOptions>()
            .Bind(configuration.GetSection(LocalTranscriberOptions.SectionName))
            .Validate(o => o.Validate() is null, "Transcription:Local is invalid: Parallelism >= 1, MaxChunkSeconds 3-300, model paths not empty.");
        services.TryAddSingleton(sp => new LocalTranscriber(
            sp.GetRequiredService<IOptions<LocalTranscriberOptions>>().Value,
            sp.GetService<ILogger<LocalTranscriber>>()));
        return services;
    }
}
