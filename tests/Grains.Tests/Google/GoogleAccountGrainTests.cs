using System.Web;
using MediaActors.Grains.Google;
using MediaActors.Providers.Google;
using MediaActors.Providers.Tests.Fakes;
using MediaActors.ServiceDefaults.Database;
using MediaActors.ServiceDefaults.Tests;
using MediaActors.Silo;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace MediaActors.Grains.Tests.Google;

/// <summary>
/// The Google account grain on an in-process Orleans cluster (state on the ADO.NET storage in PostgreSQL) against the local
/// Google server: access tokens for jobs, refreshed when due or after a 401, and a grant Google refuses.
/// </summary>
public sealed class GoogleAccountGrainTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();
    private FakeGoogleServer _google = null!;
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _google = await FakeGoogleServer.StartAsync();
        await _database.InitializeAsync();
        await using (var dataSource = NpgsqlDataSource.Create(_database.ConnectionString))
        {
            await new SchemaMigrator(dataSource, [], NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        }

        var settings = new Dictionary<string, string?>(_google.ConfigurationValues) { ["Google:RedirectUri"] = "http://mediaactors.test/api/google/callback" };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseMediaActorsStateAndReminders(_database.ConnectionString);
            silo.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
            silo.Services.AddGoogleClients(configuration);
        });
        builder.ConfigureClient(client => client.Services.AddSerializer(s => s.AddMediaActorsContracts()));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _google.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>Consent as a browser gives it: the grain's consent URL, then the state and code Google's redirect brings back.</summary>
    private static async Task<(string State, string Code)> ConsentAsync(IGoogleAccountGrain account)
    {
        var consent = await account.BeginConnect();
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var response = await browser.GetAsync(consent.AuthorizationUrl);
        var query = HttpUtility.ParseQueryString(response.Headers.Location!.Query);
        return (query["state"]!, query["code"]!);
    }

    private static async Task ConnectAsync(IGoogleAccountGrain account)
    {
        var (state, code) = await ConsentAsync(account);
        Assert.True((await account.CompleteConnect(state, code)).Connected);
    }

    [Fact]
    public async Task Access_tokens_are_reused_while_valid_refreshed_after_a_401_and_a_refused_grant_asks_to_reconnect()
    {
        var account = _cluster.Client.GetGrain<IGoogleAccountGrain>("user-a");
        Assert.Equal(GoogleTokenProblem.NotConnected, (await account.AccessToken(false)).Problem);
        await ConnectAsync(account);

        var first = await account.AccessToken(false);
        Assert.Equal(GoogleTokenProblem.None, first.Problem);
        Assert.True(_google.AccessTokens.ContainsKey(first.Token!));
        Assert.Equal(first.Token, (await account.AccessToken(false)).Token);

        // A call got 401 with it: the job asks for a fresh one.
        var forced = await account.AccessToken(true);
        Assert.NotEqual(first.Token, forced.Token);
        Assert.True(_google.AccessTokens.ContainsKey(forced.Token!));

        // The user revoked MediaActors' access at Google: the grant is forgotten and the connection says to reconnect.
        _google.RefreshTokens.Clear();
        var refused = await account.AccessToken(true);
        Assert.Equal(GoogleTokenProblem.Reconnect, refused.Problem);
        Assert.Null(refused.Token);
        Assert.Contains("reconnect your Google account", refused.Message, StringComparison.Ordinal);
        var view = await account.Get();
        Assert.False(view.Connected);
        Assert.Contains("reconnect", view.Problem, StringComparison.Ordinal);
        Assert.Equal(GoogleTokenProblem.NotConnected, (await account.AccessToken(false)).Problem);

        // Connecting again clears the problem.
        await ConnectAsync(account);
        Assert.Null((await account.Get()).Problem);
    }

    [Fact]
    public async Task A_token_about_to_expire_is_refreshed_and_an_outage_of_google_forgets_nothing()
    {
        // Tokens that live 30 s are within the minute of margin: each request refreshes.
        _google.AccessTokenSeconds = 30;
        var account = _cluster.Client.GetGrain<IGoogleAccountGrain>("user-b");
        await ConnectAsync(account);
        var a = await account.AccessToken(false);
        var b = await account.AccessToken(false);
        Assert.NotEqual(a.Token, b.Token);

        _google.FailNext("token", 503, "backend_error", "Service unavailable");
        var outage = await account.AccessToken(false);
        Assert.Equal(GoogleTokenProblem.Unavailable, outage.Problem);
        Assert.True((await account.Get()).Connected);
        Assert.Equal(GoogleTokenProblem.None, (await account.AccessToken(false)).Problem);
    }

    [Fact]
    public async Task A_consent_completes_once_and_its_state_names_its_user_once()
    {
        var account = _cluster.Client.GetGrain<IGoogleAccountGrain>("user-c");
        var (state, code) = await ConsentAsync(account);
        await account.CompleteConnect(state, code);
        await Assert.ThrowsAsync<ArgumentException>(() => account.CompleteConnect(state, code));

        // The state value names its user once (what the API's callback asks), then nobody.
        var registered = _cluster.Client.GetGrain<IGoogleConsentGrain>(state);
        Assert.Equal("user-c", await registered.Take());
        Assert.Null(await registered.Take());
        Assert.Null(await _cluster.Client.GetGrain<IGoogleConsentGrain>("forged-state").Take());
    }
}
