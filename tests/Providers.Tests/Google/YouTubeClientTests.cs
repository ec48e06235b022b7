using MediaActors.Providers.Google;
using MediaActors.Providers.Tests.Fakes;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Tests.Google;

/// <summary>The production YouTube client against a local server speaking YouTube's resumable upload protocol.</summary>
public sealed class YouTubeClientTests : IAsyncLifetime
{
    private const string Token = "ya29.test-access-token-7c1f";
    private const int Unit = 256 * 1024;
    private FakeGoogleServer _google = null!;
    private string _file = null!;
    private byte[] _content = null!;

    public async Task InitializeAsync()
    {
        _google = await FakeGoogleServer.StartAsync();
        _google.AccessTokens[Token] = true;
        _content = new byte[(5 * Unit) + 12_345];
        new Random(9).NextBytes(_content);
        _file = Path.Combine(Path.GetTempPath(), $"ma-youtube-{Guid.NewGuid():N}.mp4");
        await File.WriteAllBytesAsync(_file, _content);
    }

    public async Task DisposeAsync()
    {
        await _google.DisposeAsync();
        File.Delete(_file);
    }

    private YouTubeClient Client(int chunk = Unit, int interruptions = 3) =>
        new(new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }), Options.Create(new GoogleOptions
        {
            YouTubeApi = new Uri(_google.BaseAddress, "youtube/v3/"),
            YouTubeUploadApi = new Uri(_google.BaseAddress, "upload/youtube/v3/"),
            UploadChunkBytes = chunk,
            MaxInterruptionsInARow = interruptions,
            TimeoutSeconds = 30,
        }));

    private static VideoMetadata Metadata(string title = "A talk about actors") =>
        new(title, "What a grain is.", ["orleans", "actors"], "private", false, "27");

    [Fact]
    public async Task A_file_goes_up_in_chunks_and_becomes_a_video_with_its_metadata()
    {
        var client = Client();
        var session = await client.StartUploadAsync(Token, Metadata(), _content.Length, "video/mp4", default);
        var reported = new List<long>();
        await using var source = File.OpenRead(_file);
        var state = await client.UploadAsync(Token, session, source, _content.Length, 0, "video/mp4", new SyncProgress<long>(reported.Add), default);

        Assert.True(state.Completed);
        var video = _google.Videos[state.VideoId!];
        Assert.Equal(_content, video.Content);
        Assert.Equal("A talk about actors", video.Metadata.GetProperty("snippet").GetProperty("title").GetString());
        Assert.Equal("27", video.Metadata.GetProperty("snippet").GetProperty("categoryId").GetString());
        Assert.Equal("private", video.Metadata.GetProperty("status").GetProperty("privacyStatus").GetString());
        Assert.False(video.Metadata.GetProperty("status").GetProperty("selfDeclaredMadeForKids").GetBoolean());
        // Six requests of at most 256 KiB, each byte sent once.
        Assert.Equal(6, _google.Requests.Count(r => r.StartsWith("PUT ", StringComparison.Ordinal)));
        Assert.Equal(_content.Length, _google.UploadBytesAccepted);
        Assert.Equal(0, _google.MisplacedChunks);
        Assert.Equal([1L * Unit, 2L * Unit, 3L * Unit, 4L * Unit, 5L * Unit, _content.Length], reported);
    }

    [Fact]
    public async Task A_connection_dropped_mid_chunk_resumes_from_the_offset_the_server_confirms()
    {
        var client = Client(chunk: 2 * Unit);
        var session = await client.StartUploadAsync(Token, Metadata(), _content.Length, "video/mp4", default);
        // The first chunk (512 KiB) is cut after 300,000 bytes: the server keeps the first 256 KiB.
        _google.DropNext("upload", 300_000);
        await using var source = File.OpenRead(_file);
        var state = await client.UploadAsync(Token, session, source, _content.Length, 0, "video/mp4", null, default);

        Assert.Equal(_content, _google.Videos[state.VideoId!].Content);
        // Every byte was accepted exactly once: the client went on from 256 KiB, neither from zero nor from 300,000.
        Assert.Equal(_content.Length, _google.UploadBytesAccepted);
        Assert.Equal(0, _google.MisplacedChunks);
    }

    [Fact]
    public async Task An_upload_another_process_began_is_finished_from_what_the_session_holds()
    {
        // The first process loses its connection mid-chunk and stops there (its silo died, say).
        var first = Client(chunk: 2 * Unit, interruptions: 0);
        var session = await first.StartUploadAsync(Token, Metadata(), _content.Length, "video/mp4", default);
        _google.DropNext("upload", 300_000);
        await using (var source = File.OpenRead(_file))
        {
            var cut = await Assert.ThrowsAsync<GoogleApiException>(() => first.UploadAsync(Token, session, source, _content.Length, 0, "video/mp4", null, default));
            Assert.Equal(GoogleFailureKind.Transient, cut.Kind);
        }

        // Another process asks the session where it stands and sends the rest from there.
        var second = Client();
        var where = await second.QueryUploadAsync(Token, session, _content.Length, default);
        Assert.Equal(new UploadState(Unit, null), where);
        await using (var source = File.OpenRead(_file))
        {
            var state = await second.UploadAsync(Token, session, source, _content.Length, where.Offset, "video/mp4", null, default);
            Assert.Equal(_content, _google.Videos[state.VideoId!].Content);
        }

        Assert.Equal(_content.Length, _google.UploadBytesAccepted);
        Assert.Equal(0, _google.MisplacedChunks);
    }

    [Fact]
    public async Task The_status_of_a_finished_upload_is_its_video()
    {
        var client = Client(chunk: 8 * Unit);
        var session = await client.StartUploadAsync(Token, Metadata(), _content.Length, "video/mp4", default);
        await using var source = File.OpenRead(_file);
        var done = await client.UploadAsync(Token, session, source, _content.Length, 0, "video/mp4", null, default);

        var again = await client.QueryUploadAsync(Token, session, _content.Length, default);
        Assert.Equal(done.VideoId, again.VideoId);
    }

    [Fact]
    public async Task Google_errors_are_told_apart_and_never_carry_the_token()
    {
        var client = Client();
        _google.FailNext("upload-start", 403, "quotaExceeded", "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.");
        var quota = await Assert.ThrowsAsync<GoogleApiException>(() => client.StartUploadAsync(Token, Metadata(), _content.Length, "video/mp4", default));
        Assert.Equal((GoogleFailureKind.Quota, 403, "quotaExceeded"), (quota.Kind, quota.Status, quota.Reason));
        Assert.Contains("exceeded your quota.", quota.Message, StringComparison.Ordinal);

        var badTitle = await Assert.ThrowsAsync<GoogleApiException>(() => client.StartUploadAsync(Token, Metadata("<script>"), _content.Length, "video/mp4", default));
        Assert.Equal((GoogleFailureKind.BadRequest, "invalidTitle"), (badTitle.Kind, badTitle.Reason));
        Assert.Contains("invalid or empty video title", badTitle.Message, StringComparison.Ordinal);

        var unauthorized = await Assert.ThrowsAsync<GoogleApiException>(() => client.StartUploadAsync("ya29.revoked", Metadata(), _content.Length, "video/mp4", default));
        Assert.Equal(GoogleFailureKind.Unauthorized, unauthorized.Kind);
        Assert.DoesNotContain("ya29", unauthorized.Message, StringComparison.Ordinal);

        var session = await client.StartUploadAsync(Token, Metadata(), _content.Length, "video/mp4", default);
        _google.FailNext("upload", 503, "backendError", "Backend Error");
        await using var source = File.OpenRead(_file);
        var busy = await Assert.ThrowsAsync<GoogleApiException>(() => client.UploadAsync(Token, session, source, _content.Length, 0, "video/mp4", null, default));
        Assert.Equal(GoogleFailureKind.Transient, busy.Kind);

        var gone = await Assert.ThrowsAsync<GoogleApiException>(() =>
            client.QueryUploadAsync(Token, new Uri(_google.BaseAddress, "upload/youtube/v3/videos?uploadType=resumable&upload_id=expired"), _content.Length, default));
        Assert.Equal(GoogleFailureKind.NotFound, gone.Kind);

        foreach (var error in new[] { quota, badTitle, unauthorized, busy, gone })
        {
            Assert.DoesNotContain(Token, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_video_exists_until_it_is_deleted()
    {
        var client = Client(chunk: 8 * Unit);
        var session = await client.StartUploadAsync(Token, Metadata(), _content.Length, "video/mp4", default);
        await using var source = File.OpenRead(_file);
        var state = await client.UploadAsync(Token, session, source, _content.Length, 0, "video/mp4", null, default);

        Assert.True(await client.VideoExistsAsync(Token, state.VideoId!, default));
        _google.Videos[state.VideoId!].Deleted = true;
        Assert.False(await client.VideoExistsAsync(Token, state.VideoId!, default));
        Assert.False(await client.VideoExistsAsync(Token, "never-uploaded", default));
    }
}

/// <summary>An IProgress that reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
