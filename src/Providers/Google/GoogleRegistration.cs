using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MediaActors.Providers.Google;

public static class GoogleRegistration
{
    /// <summary>The named HttpClient of the YouTube and Drive clients (no automatic redirects: YouTube's 308 means "resume incomplete").</summary>
    public const string HttpClientName = "google";

    /// <summary>Section "Google", the OAuth flow and the YouTube and Drive clients.</summary>
    public static IServiceCollection AddGoogleClients(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GoogleOptions>().Bind(configuration.GetSection("Google"));
        services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddTransient(sp => ActivatorUtilities.CreateInstance<YouTubeClient>(sp, sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName)));
        services.AddTransient(sp => ActivatorUtilities.CreateInstance<DriveClient>(sp, sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName)));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<GoogleOAuth>();
        return services;
    }
}
