using System.Security.Cryptography;
using MediaActors.Providers.Media;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Tests.Media;

/// <summary>The media step's WAV left on the silo for the transcribing step, checked against the blob's MD5.</summary>
public sealed class HandOverTests : IDisposable
{
    private const string Container = "audio";
    private const string Blob = "user/project/audio.wav";
    private readonly string _root = Directory.CreateTempSubdirectory("ma-handover-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private HandOver Create(Action<MediaOptions>? configure = null)
    {
        var options = new MediaOptions { TempDirectory = Path.Combine(_root, "tmp") };
        configure?.Invoke(options);
        return new HandOver(Options.Create(options), TimeProvider.System, NullLogger<HandOver>.Instance);
    }

    private string HandOverFolder => Path.Combine(_root, "tmp", "handover");

    /// <summary>A file of <paramref name="size"/> bytes and the blob info an upload of it returns.</summary>
    private (string Path, BlobInfo Info, byte[] Bytes) File(int size, byte seed = 1)
    {
        var bytes = Enumerable.Range(0, size).Select(i => (byte)(i * seed)).ToArray();
        var path = Path.Combine(_root, $"{Guid.NewGuid():N}.wav");
        System.IO.File.WriteAllBytes(path, bytes);
        return (path, new BlobInfo(size, MD5.HashData(bytes), "audio/wav"), bytes);
    }

    private string Destination() => Path.Combine(_root, $"taken-{Guid.NewGuid():N}.wav");

    [Fact]
    public void The_next_step_takes_the_file_once_when_the_blob_holds_the_same_content()
    {
        var handOver = Create();
        var (path, info, bytes) = File(10_000);
        handOver.Leave(Container, Blob, info, path);
        Assert.False(System.IO.File.Exists(path));

        var taken = Destination();
        Assert.True(handOver.TryTake(Container, Blob, info, taken));
        Assert.Equal(bytes, System.IO.File.ReadAllBytes(taken));
        Assert.Empty(Directory.GetFiles(HandOverFolder));
        // Taken means moved: a second step wanting it downloads.
        Assert.False(handOver.TryTake(Container, Blob, info, Destination()));
    }

    [Fact]
    public void A_blob_written_again_since_or_another_blob_is_not_taken_from_the_hand_over()
    {
        var handOver = Create();
        var (path, info, _) = File(10_000);
        handOver.Leave(Container, Blob, info, path);
        var rewritten = File(10_000, seed: 3).Info;

        var destination = Destination();
        Assert.False(handOver.TryTake(Container, Blob, rewritten, destination));
        Assert.False(handOver.TryTake(Container, "user/other/audio.wav", info, destination));
        Assert.False(handOver.TryTake(Container, Blob, null, destination));
        Assert.False(handOver.TryTake(Container, Blob, info with { Md5 = null }, destination));
        Assert.False(System.IO.File.Exists(destination));
        Assert.True(handOver.TryTake(Container, Blob, info, destination));
    }

    [Fact]
    public void Leaving_a_blob_again_replaces_its_earlier_entry()
    {
        var handOver = Create();
        var first = File(5_000);
        var second = File(6_000, seed: 5);
        handOver.Leave(Container, Blob, first.Info, first.Path);
        handOver.Leave(Container, Blob, second.Info, second.Path);

        Assert.Single(Directory.GetFiles(HandOverFolder));
        Assert.False(handOver.TryTake(Container, Blob, first.Info, Destination()));
        var taken = Destination();
        Assert.True(handOver.TryTake(Container, Blob, second.Info, taken));
        Assert.Equal(second.Bytes, System.IO.File.ReadAllBytes(taken));
    }

    [Fact]
    public void Entries_not_taken_in_time_are_deleted_and_the_total_stays_under_the_limit()
    {
        var handOver = Create(o => o.HandOverMaxBytes = 25_000);
        var old = File(5_000);
        handOver.Leave(Container, "a/audio.wav", old.Info, old.Path);
        foreach (var entry in Directory.GetFiles(HandOverFolder))
        {
            System.IO.File.SetLastWriteTimeUtc(entry, DateTime.UtcNow - TimeSpan.FromHours(1));
        }

        handOver.Sweep();
        Assert.Empty(Directory.GetFiles(HandOverFolder));

        // Room is made by deleting the oldest entries first.
        var files = Enumerable.Range(0, 3).Select(i => File(10_000, seed: (byte)(i + 2))).ToArray();
        for (var i = 0; i < files.Length; i++)
        {
            handOver.Leave(Container, $"{i}/audio.wav", files[i].Info, files[i].Path);
            foreach (var entry in Directory.GetFiles(HandOverFolder))
            {
                // Distinct ages, oldest first.
                if (System.IO.File.GetLastWriteTimeUtc(entry) > DateTime.UtcNow - TimeSpan.FromMinutes(1))
                {
                    System.IO.File.SetLastWriteTimeUtc(entry, DateTime.UtcNow - TimeSpan.FromMinutes(10 - i));
                }
            }
        }

        Assert.Equal(2, Directory.GetFiles(HandOverFolder).Length);
        Assert.False(handOver.TryTake(Container, "0/audio.wav", files[0].Info, Destination()));
        Assert.True(handOver.TryTake(Container, "1/audio.wav", files[1].Info, Destination()));
        Assert.True(handOver.TryTake(Container, "2/audio.wav", files[2].Info, Destination()));
    }

    [Fact]
    public void Turned_off_or_too_large_the_file_stays_where_it_was()
    {
        var (path, info, _) = File(10_000);
        Create(o => o.HandOverMaxBytes = 0).Leave(Container, Blob, info, path);
        Assert.True(System.IO.File.Exists(path));
        Create(o => o.HandOverMaxBytes = 9_999).Leave(Container, Blob, info, path);
        Assert.True(System.IO.File.Exists(path));
        Assert.False(Create().TryTake(Container, Blob, info, Destination()));
    }
}
