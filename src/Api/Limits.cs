using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace MediaActors.Api;

/// <summary>Request limits (section "Limits").</summary>
public sealed class LimitOptions
{
    /// <summary>Requests a user (or, unauthenticated, an address) may make per window.</summary>
    public int RequestsPerWindow { get; set; } = 300;

    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest request body in bytes: the API takes JSON only, files go straight to blob storage.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Projects a user may have uploading, queued or processing at once.</summary>
    public int MaxProjectsInFlight { get; set; } = 20;
}

/// <summary>Rate limiting per user with 429 and Retry-After, and the request body limit.</summary>
public static class Limits
{
    public static IServiceCollection AddMediaActorsLimits(this IServiceCollection services, IConfiguration configuration, IWebHostBuilder webHost)
    {
        var options = configuration.GetSection("Limits").Get<LimitOptions>() ?? new LimitOptions();
        services.AddOptions<LimitOptions>().Bind(configuration.GetSection("Limits"));
        webHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (context.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal))
                {
                    return RateLimitPartition.GetNoLimiter("health");
                }

                var partition = context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } user
                    ? $"user:{user}"
                    : $"ip:{context.Connection.RemoteIpAddress}";
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.RequestsPerWindow,
                    Window = options.Window,
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : options.Window;
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Results.Problem(
                    title: "Too many requests.",
                    detail: $"At most {options.RequestsPerWindow} requests per {options.Window.TotalSeconds:0} s; retry after the Retry-After delay.",
                    statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(context.HttpContext);
            };
        });
        return services;
    }
}
