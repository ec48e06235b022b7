using System.Net;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Flows;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Http;
using Google.Apis.Util.Store;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Google;

/// <summary>A user's Google tokens. The refresh token is what lasts; the access token expires at <see cref="ExpiresAt"/>.</summary>
public sealed record GoogleTokens(string AccessToken, string? RefreshToken, DateTimeOffset ExpiresAt, string? Scope)
{
    /// <summary>Expired, or close enough (a minute) that a request might outlive it.</summary>
    public bool NeedsRefresh(DateTimeOffset now) => now >= ExpiresAt - TimeSpan.FromMinutes(1);
}

/// <summary>
/// The OAuth 2.0 authorization-code flow with PKCE against Google, through Google.Apis.Auth's
/// <see cref="PkceGoogleAuthorizationCodeFlow"/>: the consent URL (offline access, so a refresh token comes back), the
/// code exchange with the verifier, refresh and revocation, at the configured endpoints. Retries belong to the caller
/// (the library's own are off). Failures become <see cref="GoogleApiException"/>; a revoked or expired grant is
/// <see cref="GoogleFailureKind.Unauthorized"/>. Tokens are never stored here (the caller encrypts them) nor logged.
/// </summary>
public sealed class GoogleOAuth
{
    private readonly GoogleOptions _options;
    private readonly TimeProvider _time;
    private readonly Lazy<PkceGoogleAuthorizationCodeFlow> _flow;

    public GoogleOAuth(IOptions<GoogleOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _flow = new Lazy<PkceGoogleAuthorizationCodeFlow>(() => new PkceGoogleAuthorizationCodeFlow(new Endpoints(_options)
        {
            ClientSecrets = new ClientSecrets { ClientId = _options.ClientId, ClientSecret = _options.ClientSecret },
            Scopes = _options.Scopes,
            DataStore = new NoStore(),
            DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None,
            Prompt = "consent",
            IncludeGrantedScopes = true,
        }));
    }

    public bool IsConfigured => _options.IsConfigured;

    /// <summary>The consent URL for <paramref name="state"/>, and the PKCE code verifier to keep (secret) until the callback.</summary>
    public (Uri Url, string CodeVerifier) BeginConsent(string state)
    {
        var request = Flow.CreateAuthorizationCodeRequest(_options.RedirectUri!.ToString(), out var verifier);
        request.State = state;
        return (request.Build(), verifier);
    }

    /// <summary>Exchanges the code Google sent to the callback (with the verifier kept since <see cref="BeginConsent"/>) for tokens.</summary>
    public Task<GoogleTokens> ExchangeAsync(string code, string codeVerifier, CancellationToken cancellationToken) =>
        CallAsync("token exchange", async () =>
            await Flow.ExchangeCodeForTokenAsync("user", code, codeVerifier, _options.RedirectUri!.ToString(), cancellationToken), refreshToken: null);

    /// <summary>A new access token for <paramref name="refreshToken"/> (Google keeps the refresh token; a new one is returned only if it sends one).</summary>
    public Task<GoogleTokens> RefreshAsync(string refreshToken, CancellationToken cancellationToken) =>
        CallAsync("token refresh", async () => await Flow.RefreshTokenAsync("user", refreshToken, cancellationToken), refreshToken);

    /// <summary>Revokes the grant (the refresh token, or an access token) at Google.</summary>
    public async Task RevokeAsync(string token, CancellationToken cancellationToken) =>
        await CallAsync("token revocation", async () =>
        {
            await Flow.RevokeTokenAsync("user", token, cancellationToken);
            return new TokenResponse { AccessToken = "-", ExpiresInSeconds = 0 };
        }, refreshToken: null);

    private PkceGoogleAuthorizationCodeFlow Flow => _options.IsConfigured
        ? _flow.Value
        : throw new InvalidOperationException("Google is not configured: set Google:ClientId, Google:ClientSecret and Google:RedirectUri.");

    private async Task<GoogleTokens> CallAsync(string operation, Func<Task<TokenResponse>> call, string? refreshToken)
    {
        TokenResponse response;
        try
        {
            response = await call();
        }
        catch (TokenResponseException ex)
        {
            var status = (int)(ex.StatusCode ?? HttpStatusCode.BadRequest);
            var reason = ex.Error?.Error;
            var kind = GoogleApiFailure.Classify((HttpStatusCode)status, reason);
            var message = $"Google {operation} failed: {status} {reason}{(string.IsNullOrEmpty(ex.Error?.ErrorDescription) ? "" : ": " + ex.Error.ErrorDescription)}";
            throw new GoogleApiException(kind, status, reason, message);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            throw GoogleApiFailure.Unreachable(ex, operation);
        }

        var issued = _time.GetUtcNow();
        return new GoogleTokens(response.AccessToken, response.RefreshToken ?? refreshToken, issued + TimeSpan.FromSeconds(response.ExpiresInSeconds ?? 3600), response.Scope);
    }

    /// <summary>The Google flow's settings with the configured endpoints (Google's by default).</summary>
    private sealed class Endpoints(GoogleOptions options) : GoogleAuthorizationCodeFlow.Initializer(
        options.AuthorizationEndpoint.ToString(), options.TokenEndpoint.ToString(), options.RevokeEndpoint.ToString());

    /// <summary>The flow keeps nothing: MediaActors stores the tokens itself, encrypted.</summary>
    private sealed class NoStore : IDataStore
    {
        public Task StoreAsync<T>(string key, T value) => Task.CompletedTask;

        public Task DeleteAsync<T>(string key) => Task.CompletedTask;

        public Task<T> GetAsync<T>(string key) => Task.FromResult(default(T)!);

        public Task ClearAsync() => Task.CompletedTask;
    }
}
