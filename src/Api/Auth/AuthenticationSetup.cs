using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace MediaActors.Api.Auth;

/// <summary>JWT bearer settings (section "Auth:Jwt"): any OIDC issuer by Authority, or a symmetric key for development and tests.</summary>
public sealed class JwtSettings
{
    public string? Authority { get; set; }

    public string? Audience { get; set; }

    public string? Issuer { get; set; }

    /// <summary>A symmetric HS256 key (at least 32 characters) instead of an authority; development and tests only.</summary>
    public string? SigningKey { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(Authority) || !string.IsNullOrEmpty(SigningKey);
}

/// <summary>API keys (X-Api-Key, "Bearer ma_…", ?access_token=ma_… on hubs and event streams) and JWT bearer tokens, chosen per request.</summary>
public static class AuthenticationSetup
{
    private const string Selector = "ApiKeyOrJwt";

    public static IServiceCollection AddMediaActorsAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        var jwt = configuration.GetSection("Auth:Jwt").Get<JwtSettings>() ?? new JwtSettings();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ApiKeys>();
        var authentication = services.AddAuthentication(Selector)
            .AddPolicyScheme(Selector, "API key or JWT", options => options.ForwardDefaultSelector = context => IsJwt(context.Request, jwt)
                ? JwtBearerDefaults.AuthenticationScheme
                : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        if (jwt.Enabled)
        {
            authentication.AddJwtBearer(options =>
            {
                options.MapInboundClaims = true;
                if (!string.IsNullOrEmpty(jwt.Authority))
                {
                    options.Authority = jwt.Authority;
                }

                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidateAudience = !string.IsNullOrEmpty(jwt.Audience),
                    ValidAudience = jwt.Audience,
                    ValidateIssuer = !string.IsNullOrEmpty(jwt.Issuer) || !string.IsNullOrEmpty(jwt.Authority),
                    ValidIssuer = jwt.Issuer,
                    ValidateLifetime = true,
                    ClockSkew = TimeSpan.FromMinutes(1),
                };
                if (!string.IsNullOrEmpty(jwt.SigningKey))
                {
                    if (jwt.SigningKey.Length < 32)
                    {
                        throw new InvalidOperationException("Auth:Jwt:SigningKey must be at least 32 characters.");
                    }

                    options.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.SigningKey));
                }

                options.Events = new JwtBearerEvents
                {
                    // The subject is the user id in every query and blob path: a token without a usable one is refused.
                    OnTokenValidated = context =>
                    {
                        var subject = context.Principal?.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value;
                        if (string.IsNullOrWhiteSpace(subject) || subject.Length > 200 || subject.Any(char.IsControl))
                        {
                            context.Fail("The token has no usable subject (sub) claim.");
                        }

                        return Task.CompletedTask;
                    },
                    // WebSockets and EventSource cannot send headers: the token may come as ?access_token=.
                    OnMessageReceived = context =>
                    {
                        if (ApiKeyAuthenticationHandler.AcceptsQueryToken(context.Request))
                        {
                            context.Token = context.Request.Query["access_token"];
                        }

                        return Task.CompletedTask;
                    },
                };
            });
        }

        services.AddAuthorization();
        return services;
    }

    private static bool IsJwt(HttpRequest request, JwtSettings jwt)
    {
        if (!jwt.Enabled || request.Headers.ContainsKey(ApiKeyAuthenticationHandler.Header))
        {
            return false;
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return !authorization.StartsWith("Bearer ma_", StringComparison.Ordinal);
        }

        return ApiKeyAuthenticationHandler.AcceptsQueryToken(request) && !request.Query["access_token"].ToString().StartsWith("ma_", StringComparison.Ordinal);
    }
}
