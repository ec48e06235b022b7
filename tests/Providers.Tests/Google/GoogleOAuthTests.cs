using System.Web;
using MediaActors.Providers.Google;
using MediaActors.Providers.Tests.Fakes;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Tests.Google;

/// <summary>The production OAuth code (Google.Apis.Auth's PKCE flow at the configured endpoints) against a local token server.</summary>
public sealed class GoogleOAuthTests : IAsyncLifetime
{
    private FakeGoogleServer _google = null!;

    public async Task InitializeAsync() => _google = await FakeGoogleServer.StartAsync();

    public async Task DisposeAsync() => await _google.DisposeAsync();

    private GoogleOAuth OAuth(bool configured = true) => new(Options.Create(new GoogleOptions
    {
        ClientId = configured ? FakeGoogleServer.ClientId : null,
        ClientSecret = FakeGoogleServer.ClientSecret,
        RedirectUri = new Uri("http://127.0.0.1:5080/api/google/callback"),
        AuthorizationEndpoint = new Uri(_google.BaseAddress, "o/oauth2/v2/auth"),
        TokenEndpoint = new Uri(_google.BaseAddress, "token"),
        RevokeEndpoint = new Uri(_google.BaseAddress, "revoke"),
        YouTubeApi = new Uri(_google.BaseAddress, "youtube/v3/"),
    }), TimeProvider.System);

    /// <summary>Plays the user's browser: opens the consent URL and returns the code and state Google redirects back with.</summary>
    private static async Task<(string Code, string State)> ConsentAsync(Uri url)
    {
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var response = await browser.GetAsync(url);
        Assert.Equal(System.Net.HttpStatusCode.Found, response.StatusCode);
        var back = response.Headers.Location!;
        Assert.Equal("http://127.0.0.1:5080/api/google/callback", back.GetLeftPart(UriPartial.Path));
        var query = HttpUtility.ParseQueryString(back.Query);
        return (query["code"]!, query["state"]!);
    }

    [Fact]
    public async Task Consent_with_pkce_gives_tokens_that_the_apis_accept()
    {
        var oauth = OAuth();
        var (url, verifier) = oauth.BeginConsent("state-123");
        var (code, state) = await ConsentAsync(url);
        Assert.Equal("state-123", state);

        // What Google was asked for: offline access (a refresh token), consent, S256 PKCE, the three scopes.
        var asked = Assert.Single(_google.ConsentRequests);
        Assert.Equal(("offline", "consent", "S256"), (asked["access_type"], asked["prompt"], asked["code_challenge_method"]));
        Assert.Contains("https://www.googleapis.com/auth/youtube.upload", asked["scope"], StringComparison.Ordinal);
        Assert.Contains("https://www.googleapis.com/auth/drive.readonly", asked["scope"], StringComparison.Ordinal);
        Assert.DoesNotContain(verifier, url.ToString(), StringComparison.Ordinal);

        var tokens = await oauth.ExchangeAsync(code, verifier, default);
        Assert.NotNull(tokens.RefreshToken);
        Assert.InRange(tokens.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(58), DateTimeOffset.UtcNow.AddMinutes(61));
        Assert.False(tokens.NeedsRefresh(DateTimeOffset.UtcNow));
        Assert.True(tokens.NeedsRefresh(tokens.ExpiresAt.AddSeconds(-30)));

        var youTube = new YouTubeClient(new HttpClient(), Options.Create(new GoogleOptions { YouTubeApi = new Uri(_google.BaseAddress, "youtube/v3/") }));
        Assert.False(await youTube.VideoExistsAsync(tokens.AccessToken, "none", default));
    }

    [Fact]
    public async Task A_code_exchanged_with_the_wrong_verifier_or_twice_is_refused()
    {
        var oauth = OAuth();
        var (url, verifier) = oauth.BeginConsent("s");
        var (code, _) = await ConsentAsync(url);
        var wrong = await Assert.ThrowsAsync<GoogleApiException>(() => oauth.ExchangeAsync(code, verifier + "x", default));
        Assert.Equal((GoogleFailureKind.Unauthorized, 400, "invalid_grant"), (wrong.Kind, wrong.Status, wrong.Reason));
        Assert.Contains("Invalid code verifier", wrong.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(verifier, wrong.Message, StringComparison.Ordinal);

        // The code was used up by the failed attempt, as Google's codes are single use.
        await Assert.ThrowsAsync<GoogleApiException>(() => oauth.ExchangeAsync(code, verifier, default));
    }

    [Fact]
    public async Task Refresh_gives_a_new_access_token_until_the_grant_is_revoked()
    {
        var oauth = OAuth();
        var (url, verifier) = oauth.BeginConsent("s");
        var (code, _) = await ConsentAsync(url);
        var first = await oauth.ExchangeAsync(code, verifier, default);

        var refreshed = await oauth.RefreshAsync(first.RefreshToken!, default);
        Assert.NotEqual(first.AccessToken, refreshed.AccessToken);
        // Google sends no new refresh token on refresh: the one we had is kept.
        Assert.Equal(first.RefreshToken, refreshed.RefreshToken);

        await oauth.RevokeAsync(first.RefreshToken!, default);
        var revoked = await Assert.ThrowsAsync<GoogleApiException>(() => oauth.RefreshAsync(first.RefreshToken!, default));
        Assert.Equal(GoogleFailureKind.Unauthorized, revoked.Kind);
        Assert.Contains("expired or revoked", revoked.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(first.RefreshToken!, revoked.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_endpoint_outage_is_transient()
    {
        var oauth = OAuth();
        _google.FailNext("token", 503, "backend_error", "Service unavailable");
        var outage = await Assert.ThrowsAsync<GoogleApiException>(() => oauth.RefreshAsync("1//anything", default));
        Assert.Equal(GoogleFailureKind.Transient, outage.Kind);
    }

    [Fact]
    public void Without_a_client_it_says_what_to_configure()
    {
        var oauth = OAuth(configured: false);
        Assert.False(oauth.IsConfigured);
        var error = Assert.Throws<InvalidOperationException>(() => oauth.BeginConsent("s"));
        Assert.Contains("Google:ClientId", error.Message, StringComparison.Ordinal);
    }
}
