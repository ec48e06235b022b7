using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MediaActors.Providers.Google;

public static class GoogleRegistration
{
    /// <summary>Section "Google" and the YouTube and Drive clients, on one HttpClient that never follows redirects (YouTube's 308 is not one).</summary>
    public static IServiceCollection AddGoogleClients(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GoogleOptions>().Bind(configuration.GetSection("Google"));
        services.AddHttpClient(YouTubeClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddTransient(sp => new YouTubeClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient(YouTubeClient.HttpClientName),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<GoogleOptions>>()));
        services.AddTransient(sp => new DriveClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient(YouTubeClient.HttpClientName),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<GoogleOptions>>()));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<GoogleOAuth>();
        return services;
    }
}
