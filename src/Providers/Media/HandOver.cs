using System.Security.Cryptography;
using System.Text;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Media;

/// <summary>
/// Files a step leaves on this machine for the next step of the same work, so that step does not download what was
/// just uploaded (the media step's WAV, which the transcribing step reads; its download took about 0.3 s per 10 minutes
/// of audio). An entry is only a shortcut: it is named by its blob and the MD5 of its content, the taker asks the
/// blob store for the blob's MD5 and takes only an entry with that MD5, so a blob written again since (a retried step
/// on another silo) is downloaded as before. The next step may run on another silo: entries not taken within
/// <see cref="MediaOptions.HandOverMaxAge"/> are deleted, and <see cref="MediaOptions.HandOverMaxBytes"/> bounds them all.
/// </summary>
public sealed class HandOver(IOptions<MediaOptions> options, TimeProvider time, ILogger<HandOver> logger)
{
    private readonly MediaOptions _options = options.Value;

    private string Root => Path.Combine(_options.TempDirectory, "handover");

    /// <summary>Moves <paramref name="path"/> (the content of blob <paramref name="blob"/> in <paramref name="container"/>, as uploaded) into the hand-over.</summary>
    public void Leave(string container, string blob, BlobInfo uploaded, string path)
    {
        if (_options.HandOverMaxBytes <= 0 || uploaded.Md5 is not { Length: 16 } md5 || uploaded.SizeBytes > _options.HandOverMaxBytes)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(Root);
            var key = Key(container, blob);
            foreach (var older in Directory.EnumerateFiles(Root, key + "-*"))
            {
                File.Delete(older);
            }

            Sweep(uploaded.SizeBytes);
            File.Move(path, Path.Combine(Root, $"{key}-{Convert.ToHexStringLower(md5)}"), overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only a shortcut: the next step downloads the blob instead.
            logger.LogWarning(ex, "Could not leave {Container}/{Blob} for the next step on this machine", container, blob);
        }
    }

    /// <summary>
    /// Moves the entry of <paramref name="blob"/> to <paramref name="destination"/> if it holds the blob's current content
    /// (<paramref name="current"/>, from the blob store); false when there is none or it differs (the caller downloads).
    /// </summary>
    public bool TryTake(string container, string blob, BlobInfo? current, string destination)
    {
        Sweep();
        if (current?.Md5 is not { Length: 16 } md5)
        {
            return false;
        }

        var entry = Path.Combine(Root, $"{Key(container, blob)}-{Convert.ToHexStringLower(md5)}");
        try
        {
            // The move is the claim: of two steps on this machine that want it, one gets it and the other downloads.
            File.Move(entry, destination, overwrite: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not take {Container}/{Blob} from this machine's hand-over; downloading it", container, blob);
            return false;
        }

        if (new FileInfo(destination).Length == current.SizeBytes)
        {
            return true;
        }

        File.Delete(destination);
        return false;
    }

    /// <summary>Deletes entries older than the maximum age, then the oldest until <paramref name="room"/> more bytes fit.</summary>
    public void Sweep(long room = 0)
    {
        if (!Directory.Exists(Root))
        {
            return;
        }

        try
        {
            SweepCore(room);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not clean the hand-over folder {Folder}", Root);
        }
    }

    private void SweepCore(long room)
    {

        var now = time.GetUtcNow().UtcDateTime;
        var kept = new List<FileInfo>();
        foreach (var file in new DirectoryInfo(Root).EnumerateFiles())
        {
            if (now - file.LastWriteTimeUtc > _options.HandOverMaxAge)
            {
                TryDelete(file);
            }
            else
            {
                kept.Add(file);
            }
        }

        var total = kept.Sum(f => f.Length) + room;
        foreach (var file in kept.OrderBy(f => f.LastWriteTimeUtc))
        {
            if (total <= _options.HandOverMaxBytes)
            {
                break;
            }

            total -= file.Length;
            TryDelete(file);
        }
    }

    private static string Key(string container, string blob) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{container}/{blob}")))[..32];

    private static void TryDelete(FileInfo file)
    {
        try
        {
            file.Delete();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
