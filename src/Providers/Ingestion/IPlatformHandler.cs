namespace MediaActors.Providers.Ingestion;

/// <summary>Where a link points.</summary>
public enum SourcePlatform
{
    Direct,
    YouTube,
    TikTok,
    Instagram,
    Facebook,
    X,
    Vimeo,
}

/// <summary>A downloaded media file on local disk (the caller deletes it).</summary>
public sealed record DownloadedMedia(string FilePath, long SizeBytes, string? Title, string? ContentType);

/// <summary>Downloads media from one platform. Throws <see cref="StepException"/> (permanent for bad links, too large, private addresses).</summary>
public interface IPlatformHandler
{
    SourcePlatform Platform { get; }

    /// <summary>True when this handler recognises the link.</summary>
    bool CanHandle(Uri url);

    Task<DownloadedMedia> DownloadAsync(Uri url, string targetDirectory, long maxBytes, IProgress<double>? progress, CancellationToken cancellationToken);
}
