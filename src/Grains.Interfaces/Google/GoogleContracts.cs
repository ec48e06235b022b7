namespace MediaActors.Grains.Google;

/// <summary>A user's Google connection as the API shows it (never a token).</summary>
[GenerateSerializer, Alias("GoogleConnection")]
public sealed record GoogleConnection(
    [property: Id(0)] bool Connected,
    [property: Id(1)] IReadOnlyList<string> Scopes,
    [property: Id(2)] DateTimeOffset? ConnectedAt,
    [property: Id(3)] string? Problem);

/// <summary>Where to send the user to give consent, and until when the consent may come back.</summary>
[GenerateSerializer, Alias("GoogleConsent")]
public sealed record GoogleConsent([property: Id(0)] Uri AuthorizationUrl, [property: Id(1)] DateTimeOffset ExpiresAt);

/// <summary>Why no access token could be given.</summary>
public enum GoogleTokenProblem
{
    None,

    /// <summary>No account is connected.</summary>
    NotConnected,

    /// <summary>Google no longer accepts the saved grant (revoked or expired): the user must connect again.</summary>
    Reconnect,

    /// <summary>Google's token endpoint did not answer usefully: try again later.</summary>
    Unavailable,
}

/// <summary>An access token for a job's calls to Google, or why there is none (a result, not an exception: it crosses silos intact).</summary>
[GenerateSerializer, Alias("GoogleAccessToken")]
public sealed record GoogleAccessToken(
    [property: Id(0)] string? Token,
    [property: Id(1)] DateTimeOffset ExpiresAt,
    [property: Id(2)] GoogleTokenProblem Problem,
    [property: Id(3)] string? Message);

/// <summary>
/// One user's Google account (key: the user id): the OAuth tokens, encrypted in its state, the consents it started,
/// refresh when the access token expires, revocation on disconnect.
/// </summary>
[Alias("google-account")]
public interface IGoogleAccountGrain : IGrainWithStringKey
{
    /// <summary>Starts a consent: the URL to send the user to (its state is single use and expires).</summary>
    [Alias("begin-connect")]
    Task<GoogleConsent> BeginConnect();

    /// <summary>Google sent the user back with <paramref name="code"/> for <paramref name="state"/>: exchanges it and keeps the tokens.</summary>
    [Alias("complete-connect")]
    Task<GoogleConnection> CompleteConnect(string state, string code);

    [Alias("get")]
    Task<GoogleConnection> Get();

    /// <summary>
    /// A valid access token (refreshed when it expires within a minute, or when <paramref name="forceRefresh"/>: a call
    /// got 401 with it). A grant Google refuses is forgotten and the connection says to reconnect.
    /// </summary>
    [Alias("access-token")]
    Task<GoogleAccessToken> AccessToken(bool forceRefresh);

    /// <summary>Revokes the grant at Google (best effort) and forgets the tokens.</summary>
    [Alias("disconnect")]
    Task<GoogleConnection> Disconnect();
}

/// <summary>A consent in flight (key: its OAuth state value): which user started it, until when it may complete. Single use.</summary>
[Alias("google-consent")]
public interface IGoogleConsentGrain : IGrainWithStringKey
{
    [Alias("register")]
    Task Register(string userId, DateTimeOffset expiresAt);

    /// <summary>The user who started this consent, once, if it has not expired; otherwise null.</summary>
    [Alias("take")]
    Task<string?> Take();
}
