using MediaActors.Providers.Content.OpenAi;
using MediaActors.Providers.OpenAi;
using MediaActors.Providers.Search.OpenAi;
using MediaActors.Providers.Transcription.OpenAi;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// In the root namespace so that the composition root (ProviderRegistration) finds it without another using.
namespace MediaActors.Providers;

/// <summary>Registers the OpenAI-compatible providers and their options.</summary>
public static class OpenAiRegistration
{
    /// <summary>
    /// Binds "OpenAI", "Transcription:OpenAI", "Content:OpenAI" and "Embeddings:OpenAI" (plus "Media:FfmpegPath" and
    /// "Media:FfprobePath") and registers <see cref="OpenAiTranscriber"/>, <see cref="OpenAiContentGenerator"/> and
    /// <see cref="OpenAiEmbedder"/> as singletons of their concrete types; the composition root decides which
    /// interface each serves (check <see cref="OpenAiOptions.IsConfigured"/> or the providers' IsConfigured).
    /// </summary>
    public static IServiceCollection AddOpenAiProviders(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<OpenAiOptions>().Bind(configuration.GetSection(OpenAiOptions.SectionName));
        services.AddOptions<OpenAiTranscriptionOptions>()
            .Bind(configuration.GetSection(OpenAiTranscriptionOptions.SectionName))
            .Configure(options =>
            {
                options.FfmpegPath = configuration["Media:FfmpegPath"] is { Length: > 0 } ffmpeg ? ffmpeg : options.FfmpegPath;
                options.FfprobePath = configuration["Media:FfprobePath"] is { Length: > 0 } ffprobe ? ffprobe : options.FfprobePath;
            });
        services.AddOptions<OpenAiContentOptions>().Bind(configuration.GetSection(OpenAiContentOptions.SectionName));
        services.AddOptions<OpenAiEmbeddingOptions>().Bind(configuration.GetSection(OpenAiEmbeddingOptions.SectionName));

        services.TryAddSingleton(sp => new OpenAiTranscriber(
            sp.GetRequiredService<IOptions<OpenAiOptions>>().Value,
            sp.GetRequiredService<IOptions<OpenAiTranscriptionOptions>>().Value,
            sp.GetService<ILogger<OpenAiTranscriber>>()));
        services.TryAddSingleton(sp => new OpenAiContentGenerator(
            sp.GetRequiredService<IOptions<OpenAiOptions>>().Value,
            sp.GetRequiredService<IOptions<OpenAiContentOptions>>().Value));
        services.TryAddSingleton(sp => new OpenAiEmbedder(
            sp.GetRequiredService<IOptions<OpenAiOptions>>().Value,
            sp.GetRequiredService<IOptions<OpenAiEmbeddingOptions>>().Value));
        return services;
    }
}
