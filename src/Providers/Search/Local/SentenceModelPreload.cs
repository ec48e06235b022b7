using MediaActors.Providers.Content;
using MediaActors.Providers.Content.Local;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MediaActors.Providers.Search.Local;

/// <summary>
/// Loads the sentence model in the background once a silo has started, when it uses the model, so that the first
/// project's analysis or the first search does not wait about a second for it (API hosts never load it). Off with
/// <c>Embeddings:Local:LoadAtStart=false</c>: the model is then loaded on first use, and a process that never uses it
/// keeps its memory (about 350 MiB).
/// </summary>
public sealed class SentenceModelPreload(IServiceProvider services, IConfiguration configuration, ILogger<SentenceModelPreload> logger)
    : BackgroundService
{
    public const string Setting = LocalEmbeddingOptions.SectionName + ":LoadAtStart";

    /// <summary>Whether this process embeds with the sentence model: searches and passages, or the content generator's picks.</summary>
    internal static bool Uses(IServiceProvider services) =>
        services.GetRequiredService<IEmbedder>() is MiniLmEmbedder
        || services.GetRequiredService<IContentGenerator>() is ExtractiveContentGenerator { UsesSentenceModel: true };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!configuration.GetValue(Setting, true))
        {
            return;
        }

        // Not on the host's start-up path.
        await Task.Yield();

        try
        {
            if (Uses(services))
            {
                await services.GetRequiredService<MiniLmEmbedder>().LoadAsync(stoppingToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The step or search that needs the model then fails with the same error, where it is reported.
            logger.LogWarning("Loading the sentence model at start failed ({Error}); it is loaded on first use", ex.GetType().Name);
        }
    }
}

public static class SentenceModelPreloadRegistration
{
    /// <summary>Adds <see cref="SentenceModelPreload"/> (a silo's).</summary>
    public static IServiceCollection AddSentenceModelPreload(this IServiceCollection services, IConfiguration configuration) =>
        services.AddHostedService(sp => new SentenceModelPreload(sp, configuration, sp.GetRequiredService<ILogger<SentenceModelPreload>>()));
}
