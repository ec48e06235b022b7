using MediaActors.Providers.Tests.Fakes;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>Google and an avatar-video generator played by local servers that speak their protocols, and the settings that point the system at them.</summary>
public sealed class ConnectedServers : IAsyncDisposable
{
    /// <summary>The webhook secret the generator and the system share.</summary>
    public const string Secret = "test-avatar-secret-0123456789";

    private ConnectedServers(FakeAvatarGenerator generator, FakeGoogleServer google)
    {
        Generator = generator;
        Google = google;
    }

    public FakeAvatarGenerator Generator { get; }

    public FakeGoogleServer Google { get; }

    public static async Task<ConnectedServers> StartAsync() => new(await FakeAvatarGenerator.StartAsync(Secret), await FakeGoogleServer.StartAsync());

    /// <summary>Settings for the generator (<see cref="VideoTests.Configure"/>) and Google (<see cref="PublishTests.Configure"/>).</summary>
    public void Configure(Dictionary<string, string?> settings)
    {
        VideoTests.Configure(settings, Generator);
        PublishTests.Configure(settings, Google);
    }

    public async ValueTask DisposeAsync()
    {
        await Generator.DisposeAsync();
        await Google.DisposeAsync();
    }
}
