using System.Web;
using MediaActors.Grains.Google;
using MediaActors.Grains.Projects;
using MediaActors.Grains.Publish;
using MediaActors.Grains.Tests.Projects;
using MediaActors.Providers.Google;
using MediaActors.Providers.Storage;
using MediaActors.Providers.Tests.Fakes;
using MediaActors.ServiceDefaults.Database;
using MediaActors.ServiceDefaults.Tests;
using MediaActors.Silo;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace MediaActors.Grains.Tests.Publish;

/// <summary>The system clock moved on by <see cref="Offset"/>: tests jump to after the quota's reset while timers run on real time.</summary>
public sealed class ShiftedClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}

/// <summary>
/// An in-process Orleans cluster with the real publish grains, step runner and <see cref="Publisher"/>, grain state and
/// reminders on PostgreSQL, blobs in Azurite, and the local Google server playing OAuth, YouTube and Drive.
/// </summary>
public sealed class PublishTestCluster : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public FakeGoogleServer Google { get; private set; } = null!;

    public ShiftedClock Clock { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public BlobStore Blobs { get; } = new(ProjectTestCluster.PipelineBlobs);

    public TestDatabase Database => _database;

    /// <summary>Upload chunks of 256 KiB (YouTube's unit), so a file of a few MiB takes several.</summary>
    public const int ChunkBytes = 256 * 1024;

    public const int MaxAttempts = 3;

    public async Task InitializeAsync()
    {
        Google = await FakeGoogleServer.StartAsync();
        await _database.InitializeAsync();
        var connectionString = _database.ConnectionString;
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            await new SchemaMigrator(dataSource, [], NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        }

        var settings = new Dictionary<string, string?>(Google.ConfigurationValues)
        {
            ["Google:RedirectUri"] = "http://mediaactors.test/api/google/callback",
            ["Google:UploadChunkBytes"] = ChunkBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Google:DownloadChunkBytes"] = (ChunkBytes * 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseMediaActorsStateAndReminders(connectionString);
            silo.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
            silo.Services.AddGoogleClients(configuration);
            silo.Services.UseGrainClock(Clock);
            silo.Services.AddSingleton(NpgsqlDataSource.Create(connectionString));
            silo.Services.AddSingleton<IPublishStore, PublishStore>();
            silo.Services.AddSingleton(Blobs);
            silo.Services.AddTransient<Publisher>();
            silo.Services.AddSingleton(Options.Create(new PublishOptions
            {
                MaxAttempts = MaxAttempts,
                RetryBackoff = TimeSpan.FromMilliseconds(200),
                MaxRetryBackoff = TimeSpan.FromSeconds(1),
                ReadBufferBytes = ChunkBytes,
                // Plenty for the tests' uploads; PublishQuotaTests has Google itself say the quota is used up.
                DailyQuota = 1_000_000,
            }));
            silo.Services.AddSingleton(Options.Create(new ProjectOptions
            {
                HeartbeatInterval = TimeSpan.FromMilliseconds(200),
                StepLease = TimeSpan.FromSeconds(3),
                WatchdogPeriod = TimeSpan.FromSeconds(1),
                ShutdownGrace = TimeSpan.Zero,
            }));
            silo.Services.AddSingleton<StepRunner>();
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<StepRunner>());
        });
        builder.ConfigureClient(client => client.Services.AddSerializer(s => s.AddMediaActorsContracts()));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await Google.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>Connects <paramref name="userId"/>'s Google account the way a browser does (consent, then the code back to the grain).</summary>
    public async Task ConnectAsync(string userId)
    {
        var account = Client.GetGrain<IGoogleAccountGrain>(userId);
        var consent = await account.BeginConnect();
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var response = await browser.GetAsync(consent.AuthorizationUrl);
        var query = HttpUtility.ParseQueryString(response.Headers.Location!.Query);
        Assert.True((await account.CompleteConnect(query["state"]!, query["code"]!)).Connected);
    }

    /// <summary>A video of <paramref name="size"/> random bytes in blob storage, as a job's source (an upload).</summary>
    public async Task<(PublishSource Source, byte[] Content)> BlobSourceAsync(string userId, int size, int seed)
    {
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(path, content);
            var name = $"{userId}/{Guid.NewGuid():N}.mp4";
            var info = await Blobs.UploadFileAsync(Containers.Uploads, name, path, "video/mp4");
            var source = new PublishSource(PublishSource.UploadKind, null, Guid.NewGuid(), null, new BlobRef(Containers.Uploads, name), "talk.mp4", "video/mp4",
                info.SizeBytes, Convert.ToHexStringLower(info.Md5!));
            return (source, content);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A Drive file of <paramref name="size"/> random bytes on the local Google server, as a job's source.</summary>
    public (PublishSource Source, byte[] Content) DriveSource(int size, int seed)
    {
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        var file = Google.AddDriveFile("drive-talk.mp4", content);
        return (new PublishSource(PublishSource.DriveKind, null, null, file.Id, null, file.Name, file.MimeType, content.Length, file.Md5), content);
    }

    public static VideoMetadata Metadata(string title = "A talk") => new(title, "About the talk.", ["talk"], "private", false, "22");

    public async Task<(Guid Id, IPublishJobGrain Grain, PublishJobView View)> QueueAsync(string userId, PublishSource source, VideoMetadata? metadata = null)
    {
        var id = Guid.NewGuid();
        var grain = Client.GetGrain<IPublishJobGrain>(id);
        var view = await grain.Create(new CreatePublishJob(userId, source, metadata ?? Metadata()));
        return (id, grain, view);
    }

    /// <summary>Polls the job until <paramref name="done"/> holds (30 s at most).</summary>
    public static async Task<PublishJobView> WaitForAsync(IPublishJobGrain grain, Func<PublishJobView, bool> done, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var view = await grain.Get();
            if (done(view))
            {
                return view;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The job did not get there in {seconds} s: {view}");
            await Task.Delay(50);
        }
    }

    public static Task<PublishJobView> WaitForStatusAsync(IPublishJobGrain grain, PublishStatus status, int seconds = 30) =>
        WaitForAsync(grain, v => v.Status == status, seconds);
}
