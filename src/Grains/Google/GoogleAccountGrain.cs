using System.Security.Cryptography;
using System.Text.Json;
using MediaActors.Grains.Projects;
using MediaActors.Providers.Google;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;

namespace MediaActors.Grains.Google;

/// <summary>The account's state. Tokens and PKCE verifiers are kept encrypted with the Data Protection key ring (never in clear in the database).</summary>
public sealed class GoogleAccountState
{
    /// <summary>The tokens as protected JSON, or null when not connected.</summary>
    public string? ProtectedTokens { get; set; }

    public List<string> Scopes { get; set; } = [];

    public DateTimeOffset? ConnectedAt { get; set; }

    /// <summary>Why the user must reconnect (a revoked grant), if so.</summary>
    public string? Problem { get; set; }

    /// <summary>Consents started and not completed: state value -> protected PKCE verifier and expiry.</summary>
    public Dictionary<string, PendingConsent> Pending { get; set; } = [];
}

public sealed record PendingConsent(string ProtectedVerifier, DateTimeOffset ExpiresAt);

/// <summary>
/// A user's Google account: starts consents (PKCE verifier kept encrypted in the state, the state value registered with
/// a single-use consent grain), completes them with the code Google sent back, and forgets the tokens on disconnect
/// after revoking them at Google. The only place a user's Google tokens are decrypted.
/// </summary>
public sealed class GoogleAccountGrain(
    [PersistentState("google-account", StorageNames.Projects)] IPersistentState<GoogleAccountState> state,
    GoogleOAuth oauth,
    IDataProtectionProvider protection,
    TimeProvider time,
    ILogger<GoogleAccountGrain> logger) : Grain, IGoogleAccountGrain
{
    /// <summary>How long a started consent may take.</summary>
    public static readonly TimeSpan ConsentLifetime = TimeSpan.FromMinutes(10);

    private const string Purpose = "MediaActors.GoogleTokens.v1";
    private readonly IDataProtector _protector = protection.CreateProtector(Purpose);

    private string UserId => this.GetPrimaryKeyString();

    public async Task<GoogleConsent> BeginConnect()
    {
        RequireConfigured();
        var now = time.GetUtcNow();
        foreach (var expired in state.State.Pending.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToList())
        {
            state.State.Pending.Remove(expired);
        }

        var consentState = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var (url, verifier) = oauth.BeginConsent(consentState);
        var expiresAt = now + ConsentLifetime;
        state.State.Pending[consentState] = new PendingConsent(_protector.Protect(verifier), expiresAt);
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IGoogleConsentGrain>(consentState).Register(UserId, expiresAt);
        return new GoogleConsent(url, expiresAt);
    }

    public async Task<GoogleConnection> CompleteConnect(string consentState, string code)
    {
        RequireConfigured();
        if (!state.State.Pending.Remove(consentState, out var pending) || pending.ExpiresAt <= time.GetUtcNow())
        {
            await state.WriteStateAsync();
            throw new ArgumentException("This Google consent is unknown, was already used or has expired; connect again.");
        }

        // The consent is used up whatever happens next: a code is single use at Google too.
        await state.WriteStateAsync();
        GoogleTokens tokens;
        try
        {
            tokens = await oauth.ExchangeAsync(code, _protector.Unprotect(pending.ProtectedVerifier), CancellationToken.None);
        }
        catch (GoogleApiException ex)
        {
            // Built-in exception types cross to the API host as they are; the message never holds a token.
            throw new InvalidOperationException($"{ex.Message} Nothing was connected; connect again.");
        }

        if (string.IsNullOrEmpty(tokens.RefreshToken))
        {
            throw new InvalidOperationException("Google returned no refresh token; revoke MediaActors' access in your Google account settings and connect again.");
        }

        state.State.ProtectedTokens = _protector.Protect(JsonSerializer.Serialize(tokens));
        state.State.Scopes = (tokens.Scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();
        state.State.ConnectedAt = time.GetUtcNow();
        state.State.Problem = null;
        await state.WriteStateAsync();
        logger.LogInformation("Google account of user {User} connected (scopes: {Scopes})", UserId, string.Join(' ', state.State.Scopes));
        return View();
    }

    public Task<GoogleConnection> Get() => Task.FromResult(View());

    public async Task<GoogleAccessToken> AccessToken(bool forceRefresh)
    {
        if (state.State.ProtectedTokens is not { } protectedTokens)
        {
            return new GoogleAccessToken(null, default, GoogleTokenProblem.NotConnected,
                state.State.Problem ?? "No Google account is connected: connect one with GET /api/google/connect.");
        }

        GoogleTokens tokens;
        try
        {
            tokens = JsonSerializer.Deserialize<GoogleTokens>(_protector.Unprotect(protectedTokens))!;
        }
        catch (CryptographicException)
        {
            return await ForgetAsync("The saved Google authorization cannot be decrypted (the Data Protection key ring changed): reconnect your Google account.");
        }

        var now = time.GetUtcNow();
        if (!forceRefresh && !tokens.NeedsRefresh(now))
        {
            return new GoogleAccessToken(tokens.AccessToken, tokens.ExpiresAt, GoogleTokenProblem.None, null);
        }

        if (string.IsNullOrEmpty(tokens.RefreshToken))
        {
            return await ForgetAsync("The saved Google authorization has no refresh token: reconnect your Google account.");
        }

        try
        {
            var refreshed = await oauth.RefreshAsync(tokens.RefreshToken, CancellationToken.None);
            state.State.ProtectedTokens = _protector.Protect(JsonSerializer.Serialize(refreshed));
            await state.WriteStateAsync();
            return new GoogleAccessToken(refreshed.AccessToken, refreshed.ExpiresAt, GoogleTokenProblem.None, null);
        }
        catch (GoogleApiException ex) when (ex.Kind == GoogleFailureKind.Unauthorized)
        {
            logger.LogWarning("Google refused the saved grant of user {User} ({Reason}); the user must reconnect", UserId, ex.Reason);
            return await ForgetAsync("Google no longer accepts the saved authorization (it expired or was revoked): reconnect your Google account.");
        }
        catch (GoogleApiException ex)
        {
            return new GoogleAccessToken(null, default, GoogleTokenProblem.Unavailable, ex.Message);
        }
    }

    private async Task<GoogleAccessToken> ForgetAsync(string problem)
    {
        state.State.ProtectedTokens = null;
        state.State.Scopes = [];
        state.State.ConnectedAt = null;
        state.State.Problem = problem;
        await state.WriteStateAsync();
        return new GoogleAccessToken(null, default, GoogleTokenProblem.Reconnect, problem);
    }

    public async Task<GoogleConnection> Disconnect()
    {
        if (state.State.ProtectedTokens is { } protectedTokens)
        {
            try
            {
                var tokens = JsonSerializer.Deserialize<GoogleTokens>(_protector.Unprotect(protectedTokens))!;
                await oauth.RevokeAsync(tokens.RefreshToken ?? tokens.AccessToken, CancellationToken.None);
            }
            catch (Exception ex) when (ex is GoogleApiException or CryptographicException or InvalidOperationException)
            {
                // Forgetting the tokens is what matters here; the user can also revoke access in their Google account.
                logger.LogWarning("Revoking the Google grant of user {User} failed ({Reason}); its tokens are deleted anyway", UserId, ex.Message);
            }
        }

        state.State.ProtectedTokens = null;
        state.State.Scopes = [];
        state.State.ConnectedAt = null;
        state.State.Problem = null;
        await state.WriteStateAsync();
        return View();
    }

    private void RequireConfigured()
    {
        if (!oauth.IsConfigured)
        {
            throw new InvalidOperationException("Google is not configured: set Google:ClientId, Google:ClientSecret and Google:RedirectUri.");
        }
    }

    private GoogleConnection View() => new(state.State.ProtectedTokens is not null, state.State.Scopes, state.State.ConnectedAt, state.State.Problem);
}

public sealed class GoogleConsentState
{
    public string? UserId { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>Maps a consent's state value to the user who started it, once.</summary>
public sealed class GoogleConsentGrain(
    [PersistentState("google-consent", StorageNames.Projects)] IPersistentState<GoogleConsentState> state,
    TimeProvider time) : Grain, IGoogleConsentGrain
{
    public async Task Register(string userId, DateTimeOffset expiresAt)
    {
        state.State.UserId = userId;
        state.State.ExpiresAt = expiresAt;
        await state.WriteStateAsync();
    }

    public async Task<string?> Take()
    {
        var userId = state.State.UserId;
        if (userId is null)
        {
            return null;
        }

        var valid = state.State.ExpiresAt > time.GetUtcNow();
        await state.ClearStateAsync();
        DeactivateOnIdle();
        return valid ? userId : null;
    }
}
