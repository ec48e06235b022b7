using System.Security.Cryptography;
using System.Text;
using MediaActors.Grains.Google;
using MediaActors.Grains.Projects;
using MediaActors.Providers.Google;
using MediaActors.Providers.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MediaActors.Grains.Publish;

public sealed class FolderWatchState
{
    public bool Exists { get; set; }

    public string UserId { get; set; } = "";

    public string? DriveFolderId { get; set; }

    public string? BlobPrefix { get; set; }

    public TimeSpan Interval { get; set; }

    public FolderDefaults? Defaults { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastScanAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>Files seen (Drive file id, or blob name): the job queued for each, or null when it was skipped (uploaded before).</summary>
    public Dictionary<string, Guid?> Seen { get; set; } = [];

    public int JobsQueued { get; set; }

    public long Version { get; set; }
}

/// <summary>
/// A folder watch: its reminder scans the Drive folder or blob prefix on schedule and queues a publish job for each video
/// it has not seen, unless the file was uploaded before. Job ids are derived from the watch and the file, so a scan cut
/// short (a silo died) and run again queues nothing twice. While the YouTube quota is paused, nothing new is queued.
/// </summary>
public sealed class FolderWatchGrain(
    [PersistentState("publish-folder", StorageNames.Projects)] IPersistentState<FolderWatchState> state,
    IPublishStore store,
    BlobStore blobs,
    DriveClient drive,
    IOptions<GoogleOptions> google,
    TimeProvider time,
    ILogger<FolderWatchGrain> logger) : Grain, IFolderWatchGrain, IRemindable
{
    private const string ScanReminder = "scan";

    /// <summary>At most this many files are remembered per watch (a bigger folder is watched in part; the log says so).</summary>
    public const int MaxFiles = 10_000;

    private static readonly string[] VideoExtensions = [".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpeg", ".mpg"];

    private FolderWatchState State => state.State;

    private Guid Id => this.GetPrimaryKey();

    public async Task<FolderWatchView> Create(CreateFolderWatch command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (State.Exists)
        {
            return View();
        }

        State.Exists = true;
        State.UserId = command.UserId;
        State.DriveFolderId = command.DriveFolderId;
        State.BlobPrefix = command.BlobPrefix;
        State.Interval = command.Interval;
        State.Defaults = command.Defaults;
        State.CreatedAt = time.GetUtcNow();
        State.Version++;
        await state.WriteStateAsync();
        // The first scan comes right away, then one per interval, on whichever silo holds the reminder.
        await this.RegisterOrUpdateReminder(ScanReminder, TimeSpan.FromSeconds(1), command.Interval);
        await store.SaveFolderAsync(Id, State, NextScan);
        return View();
    }

    public Task<FolderWatchView> Get() => Task.FromResult(View());

    public async Task<FolderWatchView> Scan()
    {
        if (State.Exists)
        {
            await ScanAsync();
        }

        return View();
    }

    public async Task<FolderWatchView> Delete()
    {
        if (State.Exists)
        {
            if (await this.GetReminder(ScanReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            await store.DeleteFolderAsync(Id);
            await state.ClearStateAsync();
        }

        return View();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ScanReminder)
        {
            return;
        }

        if (!State.Exists)
        {
            if (await this.GetReminder(ScanReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            return;
        }

        await ScanAsync();
    }

    private DateTimeOffset? NextScan => State.Exists ? (State.LastScanAt ?? State.CreatedAt) + State.Interval : null;

    private async Task ScanAsync()
    {
        var now = time.GetUtcNow();
        var queued = 0;
        try
        {
            var quota = await GrainFactory.GetGrain<IPublishQuotaGrain>(PublishKeys.Quota(google.Value)).Get();
            if (quota.PausedUntil is { } paused && paused > now)
            {
                State.LastError = $"The YouTube quota is used up until {paused:u}: new files are queued by the first scan after it resets.";
                return;
            }

            await foreach (var (key, source) in CandidatesAsync())
            {
                if (State.Seen.ContainsKey(key))
                {
                    continue;
                }

                if (State.Seen.Count >= MaxFiles)
                {
                    logger.LogWarning("Folder watch {Watch} remembers {Max} files already; further files are not queued", Id, MaxFiles);
                    break;
                }

                var earlier = await GrainFactory.GetGrain<IPublishDedupeGrain>(PublishKeys.Dedupe(State.UserId, source.Md5)).UploadedVideo();
                if (earlier is not null)
                {
                    State.Seen[key] = null;
                    continue;
                }

                var jobId = JobId(key);
                var defaults = State.Defaults!;
                var metadata = new VideoMetadata(YouTubeText.TitleFromFileName(source.Name), defaults.Description, defaults.Tags, defaults.Privacy,
                    defaults.MadeForKids, defaults.CategoryId);
                var job = await GrainFactory.GetGrain<IPublishJobGrain>(jobId).Create(new CreatePublishJob(State.UserId, source, metadata, Id.ToString()));
                State.Seen[key] = job.Exists ? jobId : job.DuplicateOf;
                if (job.Exists)
                {
                    queued++;
                }
            }

            State.LastError = null;
            logger.LogInformation("Folder watch {Watch}: scanned, {Queued} new videos queued", Id, queued);
        }
        catch (Exception ex) when (ex is GoogleApiException or InvalidOperationException or HttpRequestException or Azure.RequestFailedException)
        {
            // Google's or storage's message; never a token. The next scan tries again.
            State.LastError = ex.Message;
            logger.LogWarning("Folder watch {Watch}: the scan failed ({Error}); the next one tries again", Id, ex.Message);
        }
        finally
        {
            State.LastScanAt = now;
            State.JobsQueued += queued;
            State.Version++;
            await state.WriteStateAsync();
            await store.SaveFolderAsync(Id, State, NextScan);
        }
    }

    /// <summary>The videos in the folder or under the prefix, with what a job needs to know of each.</summary>
    private async IAsyncEnumerable<(string Key, PublishSource Source)> CandidatesAsync()
    {
        if (State.DriveFolderId is { } folder)
        {
            var account = GrainFactory.GetGrain<IGoogleAccountGrain>(State.UserId);
            var token = await account.AccessToken(false);
            if (token.Token is not { Length: > 0 } accessToken)
            {
                throw new InvalidOperationException(token.Message ?? "No Google account is connected: reconnect your Google account.");
            }

            string? pageToken = null;
            do
            {
                var page = await drive.ListVideosAsync(accessToken, folder, pageToken, 100, CancellationToken.None);
                foreach (var file in page.Files.Where(f => f.Size > 0 && !string.IsNullOrEmpty(f.Md5Checksum)))
                {
                    yield return (file.Id, new PublishSource(PublishSource.DriveKind, null, null, file.Id, null, file.Name, file.MimeType, file.Size!.Value,
                        file.Md5Checksum!.ToLowerInvariant()));
                }

                pageToken = page.NextPageToken;
            }
            while (pageToken is not null);
            yield break;
        }

        await foreach (var (name, info) in blobs.ListAsync(Containers.Uploads, State.BlobPrefix!))
        {
            var isVideo = info.ContentType?.StartsWith("video/", StringComparison.Ordinal) == true
                || VideoExtensions.Contains(Path.GetExtension(name).ToLowerInvariant());
            if (!isVideo || info.SizeBytes == 0 || State.Seen.ContainsKey(name))
            {
                continue;
            }

            var md5 = info.Md5 ?? await blobs.GetOrComputeMd5Async(Containers.Uploads, name);
            var contentType = info.ContentType?.StartsWith("video/", StringComparison.Ordinal) == true ? info.ContentType : "video/mp4";
            yield return (name, new PublishSource(PublishSource.UploadKind, null, null, null, new BlobRef(Containers.Uploads, name), Path.GetFileName(name),
                contentType, info.SizeBytes, Convert.ToHexStringLower(md5)));
        }
    }

    /// <summary>The job of a file in this watch: the same id whenever the file is queued, so a repeated scan creates nothing twice.</summary>
    private Guid JobId(string key)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{Id:N}/{key}"));
        return new Guid(hash.AsSpan(0, 16));
    }

    private FolderWatchView View() => new(
        Id, State.UserId, State.Exists, State.DriveFolderId, State.BlobPrefix, State.Interval, State.Defaults, State.LastScanAt, NextScan, State.LastError,
        State.Seen.Count, State.JobsQueued, State.CreatedAt);
}
