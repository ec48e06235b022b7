using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace MediaActors.Api.Auth;

/// <summary>Authenticates requests by their X-Api-Key header.</summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeys keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    /// <summary>WebSockets and EventSource cannot send headers: the hub and event streams accept ?access_token= instead.</summary>
    public static bool AcceptsQueryToken(HttpRequest request) =>
        request.Query.ContainsKey("access_token")
        && (request.Path.StartsWithSegments("/hubs", StringComparison.Ordinal)
            || (request.Path.Value?.EndsWith("/events/stream", StringComparison.Ordinal) ?? false));

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? secret = null;
        if (Request.Headers.TryGetValue(Header, out var values) && values.Count == 1)
        {
            secret = values[0];
        }
        else if (Request.Headers.Authorization.ToString() is { } authorization && authorization.StartsWith("Bearer ma_", StringComparison.Ordinal))
        {
            // SignalR clients send their access token as a bearer token on negotiate.
            secret = authorization["Bearer ".Length..];
        }
        else if (AcceptsQueryToken(Request))
        {
            secret = Request.Query["access_token"].ToString();
        }

        if (string.IsNullOrEmpty(secret) || !secret.StartsWith("ma_", StringComparison.Ordinal))
        {
            return AuthenticateResult.NoResult();
        }

        var userId = await keys.FindUserAsync(secret, Context.RequestAborted);
        if (userId is null)
        {
            return AuthenticateResult.Fail("Invalid API key.");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

public static class UserExtensions
{
    /// <summary>The authenticated user's id (every endpoint that calls this requires authentication).</summary>
    public static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("The request is not authenticated.");
}
