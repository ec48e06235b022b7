using MediaActors.Providers.Google;
using MediaActors.Providers.Tests.Fakes;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Tests.Google;

/// <summary>The production Drive client against a local server speaking Drive v3's protocol.</summary>
public sealed class DriveClientTests : IAsyncLifetime
{
    private const string Token = "ya29.drive-access-token-91b2";
    private FakeGoogleServer _google = null!;
    private string _folder = null!;

    public async Task InitializeAsync()
    {
        _google = await FakeGoogleServer.StartAsync();
        _google.AccessTokens[Token] = true;
        _folder = Directory.CreateTempSubdirectory("ma-drive-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _google.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private DriveClient Client(int chunk = 64 * 1024) =>
        new(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }), Options.Create(new GoogleOptions
        {
            DriveApi = new Uri(_google.BaseAddress, "drive/v3/"),
            DownloadChunkBytes = chunk,
            TimeoutSeconds = 30,
        }));

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task Metadata_and_a_download_in_range_requests()
    {
        var content = Bytes(300_000, 1);
        var file = _google.AddDriveFile("talk.mp4", content);
        var client = Client();

        var meta = await client.GetFileAsync(Token, file.Id, default);
        Assert.Equal((file.Id, "talk.mp4", "video/mp4", 300_000L, file.Md5), (meta.Id, meta.Name, meta.MimeType, meta.Size, meta.Md5Checksum));

        var target = Path.Combine(_folder, "talk.mp4");
        var reported = new List<long>();
        await using (var destination = File.Create(target))
        {
            await client.DownloadAsync(Token, file.Id, destination, meta.Size!.Value, new SyncProgress<long>(reported.Add), default);
        }

        Assert.Equal(content, await File.ReadAllBytesAsync(target));
        // 64 KiB per request: five requests, the progress after each.
        Assert.Equal(5, _google.Requests.Count(r => r.Contains("alt=media", StringComparison.Ordinal)));
        Assert.Equal([65_536L, 131_072L, 196_608L, 262_144L, 300_000L], reported);
    }

    [Fact]
    public async Task A_dropped_download_goes_on_after_the_bytes_already_written()
    {
        var content = Bytes(200_000, 2);
        var file = _google.AddDriveFile("talk.mp4", content);
        _google.DropNext("download", 10_000);
        var target = Path.Combine(_folder, "dropped.mp4");
        await using (var destination = File.Create(target))
        {
            await Client().DownloadAsync(Token, file.Id, destination, content.Length, null, default);
        }

        Assert.Equal(content, await File.ReadAllBytesAsync(target));
    }

    [Fact]
    public async Task A_download_resumes_a_partial_file()
    {
        var content = Bytes(150_000, 3);
        var file = _google.AddDriveFile("talk.mp4", content);
        var target = Path.Combine(_folder, "partial.mp4");
        await File.WriteAllBytesAsync(target, content[..100_000]);
        await using (var destination = new FileStream(target, FileMode.Open, FileAccess.ReadWrite))
        {
            await Client().DownloadAsync(Token, file.Id, destination, content.Length, null, default);
        }

        Assert.Equal(content, await File.ReadAllBytesAsync(target));
        Assert.Single(_google.Requests, r => r.Contains("alt=media", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_folder_lists_its_videos_page_by_page()
    {
        for (var i = 0; i < 5; i++)
        {
            _google.AddDriveFile($"clip{i}.mp4", Bytes(10, i), folder: "folder-a");
        }

        _google.AddDriveFile("notes.txt", Bytes(10, 9), mimeType: "text/plain", folder: "folder-a");
        _google.AddDriveFile("elsewhere.mp4", Bytes(10, 8), folder: "folder-b");
        _google.AddDriveFile("binned.mp4", Bytes(10, 7), folder: "folder-a").Trashed = true;

        var client = Client();
        var names = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await client.ListVideosAsync(Token, "folder-a", token, pageSize: 2, default);
            names.AddRange(page.Files.Select(f => f.Name));
            token = page.NextPageToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(["clip0.mp4", "clip1.mp4", "clip2.mp4", "clip3.mp4", "clip4.mp4"], names.Order());
    }

    [Fact]
    public async Task A_missing_file_is_not_found_and_a_rate_limit_is_transient()
    {
        var client = Client();
        var missing = await Assert.ThrowsAsync<GoogleApiException>(() => client.GetFileAsync(Token, "nope", default));
        Assert.Equal((GoogleFailureKind.NotFound, "notFound"), (missing.Kind, missing.Reason));

        _google.FailNext("files.list", 403, "userRateLimitExceeded", "User Rate Limit Exceeded");
        var limited = await Assert.ThrowsAsync<GoogleApiException>(() => client.ListVideosAsync(Token, "folder-a", null, 10, default));
        Assert.Equal(GoogleFailureKind.Transient, limited.Kind);
        Assert.DoesNotContain(Token, limited.Message, StringComparison.Ordinal);
    }
}
