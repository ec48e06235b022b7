using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MediaActors.Providers.Ingestion;

/// <summary>Registers URL ingestion: options, the network guard, the guarded HttpClient, yt-dlp, the platform handlers and the detector.</summary>
public static class IngestionRegistration
{
    public static IServiceCollection AddIngestion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngestionOptions>()
            .Bind(configuration.GetSection(IngestionOptions.SectionName))
            .Validate(options => options.MaxDownloadBytes > 0, "Ingestion:MaxDownloadBytes must be positive.")
            .Validate(options => options.MaxRedirects >= 0, "Ingestion:MaxRedirects must not be negative.")
            .Validate(options => options.DownloadTimeout > TimeSpan.Zero && options.SocketTimeout > TimeSpan.Zero, "Ingestion timeouts must be positive.")
            .Validate(options => !string.IsNullOrWhiteSpace(options.YtDlpPath), "Ingestion:YtDlpPath must not be empty.")
            .ValidateOnStart();
        services.TryAddSingleton<NetworkGuard>();
        services.TryAddSingleton<GuardedHttpClientFactory>();
        services.TryAddSingleton<HttpMediaDownloader>();
        services.TryAddSingleton<YtDlpDownloader>();
        services.TryAddEnumerable([
            ServiceDescriptor.Singleton<IPlatformHandler, YouTubeHandler>(),
            ServiceDescriptor.Singleton<IPlatformHandler, TikTokHandler>(),
            ServiceDescriptor.Singleton<IPlatformHandler, InstagramHandler>(),
            ServiceDescriptor.Singleton<IPlatformHandler, FacebookHandler>(),
            ServiceDescriptor.Singleton<IPlatformHandler, XHandler>(),
            ServiceDescriptor.Singleton<IPlatformHandler, VimeoHandler>(),
            ServiceDescriptor.Singleton<IPlatformHandler, DirectMediaHandler>(),
        ]);
        services.TryAddSingleton<PlatformDetector>();
        services.TryAddSingleton<LinkDownloader>();
        return services;
    }
}
