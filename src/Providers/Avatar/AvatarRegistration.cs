using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MediaActors.Providers.Avatar;

public static class AvatarRegistration
{
    /// <summary>Section "Avatar" and the generator client (its URL is the operator's configuration, so it is not behind the link guard).</summary>
    public static IServiceCollection AddAvatarGenerator(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AvatarOptions>().Bind(configuration.GetSection("Avatar"));
        services.AddHttpClient(AvatarGenerator.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddSingleton(TimeProvider.System);
        services.AddTransient(sp => ActivatorUtilities.CreateInstance<AvatarGenerator>(sp, sp.GetRequiredService<IHttpClientFactory>().CreateClient(AvatarGenerator.HttpClientName)));
        return services;
    }
}
