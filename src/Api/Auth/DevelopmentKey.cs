namespace MediaActors.Api.Auth;

/// <summary>
/// The embedded default's key: at first start (no key in the database) a key for user "dev" is created,
/// written to {DataDirectory}/dev-api-key and printed; later starts print the key from that file.
/// </summary>
public sealed class DevelopmentKey(ApiKeys keys, IConfiguration configuration, ILogger<DevelopmentKey> logger) : IHostedService
{
    public const string UserId = "dev";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!configuration.GetValue("Auth:CreateDevelopmentKey", true) || configuration["DataDirectory"] is not { Length: > 0 } directory)
        {
            return;
        }

        var file = Path.Combine(directory, "dev-api-key");
        if (File.Exists(file))
        {
            var existing = (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
            if (await keys.FindUserAsync(existing, cancellationToken) is not null)
            {
                Announce(existing, file);
                return;
            }
        }

        if (await keys.AnyAsync(cancellationToken) && !File.Exists(file))
        {
            return;
        }

        var (_, secret) = await keys.CreateAsync(UserId, "development key", cancellationToken);
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(file, secret + "\n", cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        Announce(secret, file);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Announce(string secret, string file)
    {
        // Printed on purpose, once, for the local developer: this key exists only in the embedded default.
        Console.WriteLine($"Development API key (user '{UserId}', also in {file}): {secret}");
        logger.LogInformation("Development API key is in {File}", file);
    }
}

public static class DevelopmentKeyEndpoints
{
    /// <summary>
    /// <c>GET /api/auth/development-key</c>: the web app's sign-in page offers the embedded default's key to a browser on
    /// the same machine (loopback only; 404 anywhere else, and wherever no development key was made).
    /// </summary>
    public static void MapDevelopmentKey(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/auth/development-key", async (HttpContext http, IConfiguration configuration, CancellationToken ct) =>
        {
            var remote = http.Connection.RemoteIpAddress;
            if (remote is null || !System.Net.IPAddress.IsLoopback(remote) || http.Request.Headers.ContainsKey("X-Forwarded-For")
                || !configuration.GetValue("Auth:CreateDevelopmentKey", true) || configuration["DataDirectory"] is not { Length: > 0 } directory
                || !File.Exists(Path.Combine(directory, "dev-api-key")))
            {
                return Problems.NotFound("development key");
            }

            return Results.Ok(new { key = (await File.ReadAllTextAsync(Path.Combine(directory, "dev-api-key"), ct)).Trim(), userId = DevelopmentKey.UserId });
        }).AllowAnonymous().ExcludeFromDescription();
}
