using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;

namespace MediaActors.Providers.Storage;

/// <summary>The blob containers: uploads and videos may get read or write SAS URLs; audio never leaves the backend.</summary>
public static class Containers
{
    public const string Uploads = "uploads";
    public const string Videos = "videos";
    public const string Thumbnails = "thumbnails";
    public const string Audio = "audio";

    public static readonly string[] All = [Uploads, Videos, Thumbnails, Audio];
}

/// <summary>A blob's size and MD5 as the store reports them.</summary>
public sealed record BlobInfo(long SizeBytes, byte[]? Md5, string? ContentType);

/// <summary>
/// Blob storage (Azure Blob Storage or Azurite). Uploads use staged blocks and a block list and downloads
/// stream, so memory stays bounded whatever the size (and the SDK paths that need System.IO.Hashing are avoided).
/// </summary>
public sealed class BlobStore(BlobServiceClient service)
{
    private const int BlockSize = 8 * 1024 * 1024;
    private int _containersReady;

    public BlobStore(string connectionString)
        : this(new BlobServiceClient(connectionString))
    {
    }

    public async Task EnsureContainersAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _containersReady) == 1)
        {
            return;
        }

        foreach (var name in Containers.All)
        {
            await service.GetBlobContainerClient(name).CreateIfNotExistsAsync(PublicAccessType.None, cancellationToken: cancellationToken);
        }

        Volatile.Write(ref _containersReady, 1);
    }

    /// <summary>Uploads a local file as block blob <paramref name="name"/>, replacing it; returns its size and MD5.</summary>
    public async Task<BlobInfo> UploadFileAsync(string container, string name, string path, string contentType, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        await EnsureContainersAsync(cancellationToken);
        var blob = service.GetBlobContainerClient(container).GetBlockBlobClient(name);
        await using var file = File.OpenRead(path);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[BlockSize];
        var blockIds = new List<string>();
        long total = 0;
        int read;
        while ((read = await ReadBlockAsync(file, buffer, cancellationToken)) > 0)
        {
            // Deterministic block ids: a retried upload of the same file stages the same blocks.
            var blockId = Convert.ToBase64String(BitConverter.GetBytes((long)blockIds.Count));
            md5.AppendData(buffer, 0, read);
            using var chunk = new MemoryStream(buffer, 0, read, writable: false);
            await blob.StageBlockAsync(blockId, chunk, cancellationToken: cancellationToken);
            blockIds.Add(blockId);
            total += read;
            progress?.Report(file.Length == 0 ? 1 : (double)total / file.Length);
        }

        var hash = md5.GetHashAndReset();
        await blob.CommitBlockListAsync(blockIds, new CommitBlockListOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = contentType, ContentHash = hash },
        }, cancellationToken);
        return new BlobInfo(total, hash, contentType);
    }

    /// <summary>Streams a blob to a local file; returns its size and MD5 computed while streaming.</summary>
    public async Task<BlobInfo> DownloadToFileAsync(string container, string name, string path, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        var blob = service.GetBlobContainerClient(container).GetBlobClient(name);
        using var response = (await blob.DownloadStreamingAsync(cancellationToken: cancellationToken)).Value;
        var length = response.Details.ContentLength;
        await using var source = response.Content;
        await using var target = File.Create(path);
        var hash = await CopyHashingAsync(source, target, length, progress, cancellationToken);
        return new BlobInfo(target.Length, hash, response.Details.ContentType);
    }

    /// <summary>The MD5 of a blob: the stored one if present, else computed by streaming the blob (and stored for next time).</summary>
    public async Task<byte[]> GetOrComputeMd5Async(string container, string name, CancellationToken cancellationToken = default)
    {
        var blob = service.GetBlobContainerClient(container).GetBlobClient(name);
        var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        if (properties.ContentHash is { Length: 16 } stored)
        {
            return stored;
        }

        using var response = (await blob.DownloadStreamingAsync(cancellationToken: cancellationToken)).Value;
        await using var source = response.Content;
        var hash = await CopyHashingAsync(source, Stream.Null, properties.ContentLength, null, cancellationToken);
        await blob.SetHttpHeadersAsync(new BlobHttpHeaders
        {
            ContentType = properties.ContentType,
            ContentHash = hash,
        }, new BlobRequestConditions { IfMatch = properties.ETag }, cancellationToken);
        return hash;
    }

    /// <summary>Size, MD5 and type of a blob, or null when it does not exist.</summary>
    public async Task<BlobInfo?> GetInfoAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var properties = (await service.GetBlobContainerClient(container).GetBlobClient(name).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return new BlobInfo(properties.ContentLength, properties.ContentHash is { Length: 16 } h ? h : null, properties.ContentType);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public async Task DeleteIfExistsAsync(string container, string name, CancellationToken cancellationToken = default) =>
        await service.GetBlobContainerClient(container).GetBlobClient(name).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken);

    /// <summary>Deletes every blob whose name starts with <paramref name="prefix"/>; returns how many.</summary>
    public async Task<int> DeletePrefixAsync(string container, string prefix, CancellationToken cancellationToken = default)
    {
        var client = service.GetBlobContainerClient(container);
        var deleted = 0;
        await foreach (var item in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
        {
            await client.GetBlobClient(item.Name).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken);
            deleted++;
        }

        return deleted;
    }

    /// <summary>The blobs of <paramref name="container"/> whose names start with <paramref name="prefix"/>, with their size, type and MD5 when stored.</summary>
    public async IAsyncEnumerable<(string Name, BlobInfo Info)> ListAsync(string container, string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureContainersAsync(cancellationToken);
        await foreach (var item in service.GetBlobContainerClient(container).GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
        {
            var properties = item.Properties;
            yield return (item.Name, new BlobInfo(properties.ContentLength ?? 0, properties.ContentHash is { Length: 16 } hash ? hash : null, properties.ContentType));
        }
    }

    /// <summary>A seekable read stream over a blob, fetched in ranges of <paramref name="bufferSize"/> bytes (memory stays at one buffer).</summary>
    public async Task<Stream> OpenReadAsync(string container, string name, int bufferSize, CancellationToken cancellationToken = default) =>
        await service.GetBlobContainerClient(container).GetBlobClient(name)
            .OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { BufferSize = bufferSize }, cancellationToken);

    /// <summary>
    /// Opens append blob <paramref name="name"/> (created if missing) for appending from its current length: what an
    /// earlier, interrupted writer appended stays, so a copy resumes where the last one stopped.
    /// </summary>
    public async Task<AppendBlobStream> OpenAppendAsync(string container, string name, string contentType, CancellationToken cancellationToken = default)
    {
        await EnsureContainersAsync(cancellationToken);
        var blob = service.GetBlobContainerClient(container).GetAppendBlobClient(name);
        await blob.CreateIfNotExistsAsync(new AppendBlobCreateOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, cancellationToken);
        var length = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ContentLength;
        return new AppendBlobStream(blob, length);
    }

    /// <summary>
    /// The blocks staged for a block blob but not committed yet (name and size, in the order they were staged): what
    /// a client that resumes an interrupted upload can skip. Empty when nothing was staged.
    /// </summary>
    public async Task<IReadOnlyList<(string Name, long SizeBytes)>> GetUncommittedBlocksAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        var blob = service.GetBlobContainerClient(container).GetBlockBlobClient(name);
        try
        {
            var list = await blob.GetBlockListAsync(BlockListTypes.Uncommitted, cancellationToken: cancellationToken);
            return list.Value.UncommittedBlocks.Select(b => (b.Name, b.SizeLong)).ToList();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }
    }

    /// <summary>
    /// Lets browsers on <paramref name="origins"/> PUT blocks to upload URLs (a CORS rule on the blob service, merged
    /// with the rules already there). The SAS in each URL stays the only credential.
    /// </summary>
    public async Task AllowBrowserUploadsAsync(IReadOnlyList<string> origins, CancellationToken cancellationToken = default)
    {
        var properties = (await service.GetPropertiesAsync(cancellationToken)).Value;
        var allowed = string.Join(',', origins);
        if (properties.Cors.Any(r => r.AllowedOrigins == allowed && r.AllowedMethods.Contains("PUT", StringComparison.Ordinal)))
        {
            return;
        }

        properties.Cors.Add(new BlobCorsRule
        {
            AllowedOrigins = allowed,
            AllowedMethods = "GET,HEAD,PUT,OPTIONS",
            AllowedHeaders = "*",
            ExposedHeaders = "*",
            MaxAgeInSeconds = 3600,
        });
        await service.SetPropertiesAsync(properties, cancellationToken);
    }

    /// <summary>A write-only (create + write) SAS URL for one blob: the client uploads blocks straight to storage.</summary>
    public Uri GetUploadUri(string container, string name, DateTimeOffset expiresOn) =>
        Sas(container, name, expiresOn, BlobSasPermissions.Create | BlobSasPermissions.Write);

    /// <summary>A read-only SAS URL for one blob. Never for the audio container.</summary>
    public Uri GetReadUri(string container, string name, DateTimeOffset expiresOn)
    {
        if (container == Containers.Audio)
        {
            throw new InvalidOperationException("Audio extracts are private: no read URL is issued for them.");
        }

        return Sas(container, name, expiresOn, BlobSasPermissions.Read);
    }

    /// <summary>A read SAS URL for the backend's own tools (ffprobe reading an upload in place); never handed to clients.</summary>
    public Uri GetInternalReadUri(string container, string name, DateTimeOffset expiresOn) => Sas(container, name, expiresOn, BlobSasPermissions.Read);

    private Uri Sas(string container, string name, DateTimeOffset expiresOn, BlobSasPermissions permissions)
    {
        var blob = service.GetBlobContainerClient(container).GetBlobClient(name);
        if (!blob.CanGenerateSasUri)
        {
            throw new InvalidOperationException("The blob connection string has no account key, so SAS URLs cannot be signed.");
        }

        var builder = new BlobSasBuilder(permissions, expiresOn)
        {
            BlobContainerName = container,
            BlobName = name,
            Resource = "b",
            StartsOn = DateTimeOffset.UtcNow.AddMinutes(-5),
            Protocol = SasProtocol.HttpsAndHttp,
        };
        return blob.GenerateSasUri(builder);
    }

    private static async Task<int> ReadBlockAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }

    private static async Task<byte[]> CopyHashingAsync(Stream source, Stream target, long length, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[1024 * 1024];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            md5.AppendData(buffer, 0, read);
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
            progress?.Report(length > 0 ? (double)total / length : 0);
        }

        return md5.GetHashAndReset();
    }
}
