using MediaActors.Grains.Publish;
using Npgsql;

namespace MediaActors.Grains.Tests.Publish;

/// <summary>Folder watches on the real grains against the local Google server's Drive.</summary>
public sealed class FolderWatchGrainTests(PublishTestCluster fixture) : IClassFixture<PublishTestCluster>
{
    private static readonly FolderDefaults Defaults = new("From the watched folder.", ["watched"], "unlisted", false, "27");

    [Fact]
    public async Task A_watched_drive_folder_queues_each_new_video_once_and_skips_files_uploaded_before()
    {
        await fixture.ConnectAsync("folder-user");
        // A file already on YouTube through an earlier job: the scan leaves it alone.
        var earlierContent = new byte[300_000];
        new Random(21).NextBytes(earlierContent);
        var earlier = fixture.Google.AddDriveFile("earlier.mp4", earlierContent, folder: "folderA");
        var (_, earlierJob, _) = await fixture.QueueAsync("folder-user",
            new PublishSource(PublishSource.DriveKind, null, null, earlier.Id, null, earlier.Name, earlier.MimeType, earlierContent.Length, earlier.Md5));
        await PublishTestCluster.WaitForStatusAsync(earlierJob, PublishStatus.Completed);
        var first = AddVideo("Team meeting.mp4", 400_000, 22);
        var second = AddVideo("Product demo.mp4", 500_000, 23);
        fixture.Google.AddDriveFile("notes.txt", "not a video"u8.ToArray(), mimeType: "text/plain", folder: "folderA");

        var watchId = Guid.NewGuid();
        var watch = fixture.Client.GetGrain<IFolderWatchGrain>(watchId);
        var created = await watch.Create(new CreateFolderWatch("folder-user", "folderA", null, TimeSpan.FromHours(1), Defaults));
        Assert.True(created.Exists);

        // The reminder's first scan comes right away.
        var scanned = await WaitAsync(watch, v => v.LastScanAt is not null);
        Assert.Null(scanned.LastError);
        Assert.Equal(2, scanned.JobsQueued);
        Assert.Equal(3, scanned.FilesSeen);
        foreach (var job in await JobsOfAsync(watchId))
        {
            var done = await PublishTestCluster.WaitForStatusAsync(fixture.Client.GetGrain<IPublishJobGrain>(job), PublishStatus.Completed);
            var video = fixture.Google.Videos[done.VideoId!];
            Assert.Contains(video.Content, new[] { first, second });
            Assert.Equal("unlisted", video.Metadata.GetProperty("status").GetProperty("privacyStatus").GetString());
            Assert.Equal("27", video.Metadata.GetProperty("snippet").GetProperty("categoryId").GetString());
            Assert.Contains(video.Metadata.GetProperty("snippet").GetProperty("title").GetString(), new[] { "Team meeting", "Product demo" });
        }

        // A new file: the next scan queues it, and only it.
        var third = AddVideo("Roadmap.mp4", 200_000, 24);
        var rescanned = await watch.Scan();
        Assert.Equal(3, rescanned.JobsQueued);
        var jobs = await JobsOfAsync(watchId);
        Assert.Equal(3, jobs.Count);
        var videos = new List<byte[]>();
        foreach (var job in jobs)
        {
            var done = await PublishTestCluster.WaitForStatusAsync(fixture.Client.GetGrain<IPublishJobGrain>(job), PublishStatus.Completed);
            videos.Add(fixture.Google.Videos[done.VideoId!].Content);
        }

        Assert.Contains(third, videos);
        await watch.Scan();
        Assert.Equal(3, (await JobsOfAsync(watchId)).Count);
        Assert.Equal(3, await fixture.Database.ScalarAsync<int>("SELECT jobs_queued FROM publish_folders WHERE id = $1", watchId));

        Assert.False((await watch.Delete()).Exists);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM publish_folders WHERE id = $1", watchId));
    }

    private byte[] AddVideo(string name, int size, int seed)
    {
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        fixture.Google.AddDriveFile(name, content, folder: "folderA");
        return content;
    }

    private async Task<List<Guid>> JobsOfAsync(Guid watchId)
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT id FROM publish_jobs WHERE folder_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = watchId.ToString() });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private static async Task<FolderWatchView> WaitAsync(IFolderWatchGrain watch, Func<FolderWatchView, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var view = await watch.Get();
            if (done(view))
            {
                return view;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The watch did not get there: {view}");
            await Task.Delay(100);
        }
    }
}
