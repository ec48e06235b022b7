using MediaActors.Grains.Publish;

namespace MediaActors.Grains.Tests.Publish;

/// <summary>Runs alone (no other test allocating meanwhile), so the process's allocations are the upload's.</summary>
[CollectionDefinition(nameof(AloneCollection), DisableParallelization = true)]
public sealed class AloneCollection;

/// <summary>An upload streams from blob storage to YouTube in chunks: the memory it takes does not grow with the file.</summary>
[Collection(nameof(AloneCollection))]
public sealed class PublishMemoryTests(PublishTestCluster fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PublishTestCluster>
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task Uploading_a_file_eight_times_larger_allocates_about_the_same()
    {
        await fixture.ConnectAsync("memory-user");
        fixture.Google.KeepUploads = false;
        try
        {
            var small = await AllocatedByUploadAsync(16 * MiB, seed: 31);
            var large = await AllocatedByUploadAsync(128 * MiB, seed: 32);
            output.WriteLine($"allocated: 16 MiB upload {small / (double)MiB:0.0} MiB, 128 MiB upload {large / (double)MiB:0.0} MiB");
            // Buffering the file would allocate at least 112 MiB more for the large one; streaming allocates per chunk only.
            Assert.True(large - small < 24L * MiB, $"16 MiB upload allocated {small / MiB} MiB, 128 MiB upload allocated {large / MiB} MiB.");
        }
        finally
        {
            fixture.Google.KeepUploads = true;
        }
    }

    private async Task<long> AllocatedByUploadAsync(int size, int seed)
    {
        var (source, _) = await fixture.BlobSourceAsync("memory-user", size, seed);
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var (_, job, _) = await fixture.QueueAsync("memory-user", source);
        var done = await PublishTestCluster.WaitForAsync(job, v => v.Status == PublishStatus.Completed, seconds: 120);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        var video = fixture.Google.Videos[done.VideoId!];
        Assert.Equal((source.SizeBytes, source.Md5), (video.Size, video.Md5));
        return allocated;
    }
}
