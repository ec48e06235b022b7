using MediaActors.Api.Auth;
using MediaActors.Grains.Google;
using MediaActors.Providers.Google;
using Microsoft.Extensions.Options;

namespace MediaActors.Api.Google;

/// <summary>
/// Connecting a Google account (OAuth 2.0 authorization code with PKCE): <c>GET /api/google/connect</c> gives the consent
/// URL, Google sends the browser back to <c>GET /api/google/callback</c> (no API key there: the single-use state value
/// names the consent), <c>GET /api/google</c> shows the connection, <c>DELETE /api/google</c> revokes and forgets it.
/// </summary>
public static class GoogleEndpoints
{
    public static void MapGoogle(this WebApplication app)
    {
        var group = app.MapGroup("/api/google").WithTags("Google");
        group.MapGet("/", (HttpContext http, IClusterClient cluster, IOptions<GoogleOptions> options) =>
            CallAsync(options, () => cluster.GetGrain<IGoogleAccountGrain>(http.User.UserId()).Get())).RequireAuthorization();
        group.MapGet("/connect", (HttpContext http, IClusterClient cluster, IOptions<GoogleOptions> options) =>
            CallAsync(options, async () =>
            {
                var consent = await cluster.GetGrain<IGoogleAccountGrain>(http.User.UserId()).BeginConnect();
                return new { authorizationUrl = consent.AuthorizationUrl, expiresAt = consent.ExpiresAt };
            })).RequireAuthorization();
        group.MapDelete("/", (HttpContext http, IClusterClient cluster, IOptions<GoogleOptions> options) =>
            CallAsync(options, () => cluster.GetGrain<IGoogleAccountGrain>(http.User.UserId()).Disconnect())).RequireAuthorization();
        group.MapGet("/callback", CallbackAsync).AllowAnonymous();
    }

    private static async Task<IResult> CallbackAsync(string? state, string? code, string? error, IClusterClient cluster, IOptions<GoogleOptions> options)
    {
        if (!options.Value.IsConfigured)
        {
            return NotConfigured();
        }

        if (string.IsNullOrEmpty(state) || state.Length > 100)
        {
            return Problems.BadRequest("The callback has no valid state: start again with GET /api/google/connect.");
        }

        // The consent is used up here, whether Google says yes or no.
        var userId = await cluster.GetGrain<IGoogleConsentGrain>(state).Take();
        if (userId is null)
        {
            return Problems.BadRequest("This Google consent is unknown, was already used or has expired (10 minutes): start again with GET /api/google/connect.");
        }

        if (!string.IsNullOrEmpty(error) || string.IsNullOrEmpty(code))
        {
            return Problems.BadRequest($"Google did not grant access ({(string.IsNullOrEmpty(error) ? "no code" : error)}): nothing was connected.");
        }

        return await CallAsync(options, () => cluster.GetGrain<IGoogleAccountGrain>(userId).CompleteConnect(state, code));
    }

    private static async Task<IResult> CallAsync<T>(IOptions<GoogleOptions> options, Func<Task<T>> call)
    {
        if (!options.Value.IsConfigured)
        {
            return NotConfigured();
        }

        try
        {
            return Results.Ok(await call());
        }
        catch (ArgumentException ex)
        {
            return Problems.BadRequest(ex.Message);
        }
        catch (GoogleApiException ex)
        {
            return Results.Problem(title: "Google refused.", detail: ex.Message, statusCode: StatusCodes.Status502BadGateway);
        }
        catch (InvalidOperationException ex)
        {
            return Results.Problem(title: "Google refused.", detail: ex.Message, statusCode: StatusCodes.Status502BadGateway);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return Problems.Unavailable("No silo answered in time. Try again.");
        }
    }

    /// <summary>The answer of every Google endpoint while no OAuth client is configured.</summary>
    public static IResult NotConfigured() => Results.Problem(
        title: "Google is not configured.",
        detail: "Publishing to YouTube and importing from Google Drive need a Google OAuth client: set Google__ClientId, Google__ClientSecret and "
            + "Google__RedirectUri (this API's /api/google/callback as browsers reach it, registered in the Google Cloud Console) on the API hosts and silos.",
        statusCode: StatusCodes.Status503ServiceUnavailable);
}
