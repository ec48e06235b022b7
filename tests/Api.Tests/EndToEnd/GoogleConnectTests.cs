using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MediaActors.Providers.Tests.Fakes;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>
/// Connecting a Google account through the API and the silo, against a local server playing Google's consent, token
/// and revocation endpoints: the PKCE flow, single-use consents, tokens encrypted in the grain's stored state, revocation
/// on disconnect, and each user seeing only their own connection.
/// </summary>
public sealed class GoogleConnectTests : IAsyncLifetime
{
    private const string RedirectUri = "http://mediaactors.test/api/google/callback";
    private FakeGoogleServer _google = null!;
    private PipelineCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _google = await FakeGoogleServer.StartAsync();
        _cluster = await PipelineCluster.StartAsync(configure: s =>
        {
            foreach (var (key, value) in _google.ConfigurationValues)
            {
                s[key] = value;
            }

            s["Google:RedirectUri"] = RedirectUri;
        });
    }

    public async Task DisposeAsync()
    {
        _browser.Dispose();
        await _cluster.DisposeAsync();
        await _google.DisposeAsync();
    }

    private readonly HttpClient _browser = new(new SocketsHttpHandler { AllowAutoRedirect = false });

    /// <summary>Plays the browser at Google: the consent page sends it back to the redirect URI; returns that URI's query.</summary>
    private async Task<string> ConsentAsync(string authorizationUrl)
    {
        using var consent = await _browser.GetAsync(authorizationUrl);
        Assert.Equal(HttpStatusCode.Found, consent.StatusCode);
        var back = consent.Headers.Location!;
        Assert.StartsWith(RedirectUri + "?", back.ToString(), StringComparison.Ordinal);
        return back.Query;
    }

    /// <summary>The browser back at our API's callback (without an API key).</summary>
    private Task<HttpResponseMessage> CallbackAsync(string query) => _browser.GetAsync(new Uri(_cluster.Http.BaseAddress!, "/api/google/callback" + query));

    [Fact]
    public async Task A_user_connects_with_pkce_the_tokens_are_stored_encrypted_and_disconnect_revokes_them()
    {
        var before = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/google"));
        Assert.False(before.GetProperty("connected").GetBoolean());

        var connect = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/google/connect"));
        var url = connect.GetProperty("authorizationUrl").GetString()!;
        Assert.Contains("code_challenge_method=S256", url, StringComparison.Ordinal);
        using var callback = await CallbackAsync(await ConsentAsync(url));
        var body = await callback.Content.ReadAsStringAsync();
        Assert.True(callback.StatusCode == HttpStatusCode.OK, body);
        var connected = JsonDocument.Parse(body).RootElement;
        Assert.True(connected.GetProperty("connected").GetBoolean());
        Assert.Contains("https://www.googleapis.com/auth/youtube.upload", connected.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));

        var now = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/google"));
        Assert.True(now.GetProperty("connected").GetBoolean());

        // The refresh token Google issued is nowhere in the database in clear: the grain keeps it encrypted.
        var refreshToken = Assert.Single(_google.RefreshTokens.Keys);
        var stored = await _cluster.Database.ScalarAsync<string>(
            "SELECT coalesce(string_agg(convert_from(payload_binary, 'UTF8'), ' '), '') FROM orleans_storage WHERE payload_binary IS NOT NULL");
        Assert.Contains("ProtectedTokens", stored, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(refreshToken, stored, StringComparison.Ordinal);
        Assert.DoesNotContain("ya29.", stored, StringComparison.Ordinal);

        // Someone else (a JWT user) sees no connection.
        using var other = new HttpClient { BaseAddress = _cluster.Http.BaseAddress };
        other.DefaultRequestHeaders.Authorization = new("Bearer", PipelineCluster.Jwt("someone-else"));
        Assert.False((await PipelineCluster.ReadJsonAsync(await other.GetAsync("/api/google"))).GetProperty("connected").GetBoolean());

        // Disconnect revokes the grant at Google and forgets the tokens.
        var disconnected = await PipelineCluster.ReadJsonAsync(await _cluster.Http.DeleteAsync("/api/google"));
        Assert.False(disconnected.GetProperty("connected").GetBoolean());
        Assert.Empty(_google.RefreshTokens);
        Assert.Contains(_google.Requests, r => r.StartsWith("POST /revoke", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_consent_is_single_use_and_a_refusal_or_a_forged_state_connects_nothing()
    {
        var first = (await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/google/connect"))).GetProperty("authorizationUrl").GetString()!;
        var back = await ConsentAsync(first);
        using (var used = await CallbackAsync(back))
        {
            Assert.Equal(HttpStatusCode.OK, used.StatusCode);
        }

        // The same callback again (a replay): the consent is used up.
        using var replay = await CallbackAsync(back);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Equal("application/problem+json", replay.Content.Headers.ContentType?.MediaType);
        Assert.Contains("already used", await replay.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var forged = await CallbackAsync("?state=forged&code=4/whatever");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        // The user said no at Google: the consent ends and nothing changes.
        await _cluster.Http.DeleteAsync("/api/google");
        var second = (await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/google/connect"))).GetProperty("authorizationUrl").GetString()!;
        var state = System.Web.HttpUtility.ParseQueryString(new Uri(second).Query)["state"]!;
        using var denied = await CallbackAsync($"?error=access_denied&state={Uri.EscapeDataString(state)}");
        Assert.Equal(HttpStatusCode.BadRequest, denied.StatusCode);
        Assert.Contains("access_denied", await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/google"))).GetProperty("connected").GetBoolean());
    }
}
