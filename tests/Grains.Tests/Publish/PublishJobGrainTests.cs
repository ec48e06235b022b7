using MediaActors.Grains.Publish;
using MediaActors.Providers.Storage;

namespace MediaActors.Grains.Tests.Publish;

/// <summary>
/// Publish jobs on the real grains and worker against the local Google server (its protocol, its injected failures): each
/// test is one user, so their files' duplicate checks do not meet.
/// </summary>
public sealed class PublishJobGrainTests(PublishTestCluster fixture) : IClassFixture<PublishTestCluster>
{
    [Fact]
    public async Task A_blob_is_uploaded_in_chunks_and_the_job_its_row_and_its_events_say_so()
    {
        await fixture.ConnectAsync("blob-user");
        var (source, content) = await fixture.BlobSourceAsync("blob-user", 5 * PublishTestCluster.ChunkBytes + 1234, seed: 1);
        var accepted = fixture.Google.UploadBytesAccepted;

        // Chunks wait at the server's gate until the job shows it is uploading.
        fixture.Google.Hold("upload");
        var (id, job, queued) = await fixture.QueueAsync("blob-user", source);
        Assert.True(queued.Exists);
        Assert.Equal(PublishStatus.Pending, queued.Status);
        try
        {
            var uploading = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Uploading);
            Assert.InRange(uploading.Progress, 50, 99);
        }
        finally
        {
            fixture.Google.Release("upload");
        }

        var done = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Completed);

        Assert.Equal(100, done.Progress);
        Assert.False(done.AlreadyOnYouTube);
        Assert.Equal(1, done.Attempts);
        var video = fixture.Google.Videos[done.VideoId!];
        Assert.Equal(content, video.Content);
        Assert.Equal("A talk", video.Metadata.GetProperty("snippet").GetProperty("title").GetString());
        Assert.Equal("private", video.Metadata.GetProperty("status").GetProperty("privacyStatus").GetString());
        Assert.Equal(content.Length, fixture.Google.UploadBytesAccepted - accepted);

        // The read model and the event log, written by the grain just after its state: queued, uploading from 50%, completed at 100%.
        await WaitUntilAsync(async () => await fixture.Database.ScalarAsync<string>("SELECT status FROM publish_jobs WHERE id = $1", id) == "completed");
        Assert.Equal(done.VideoId, await fixture.Database.ScalarAsync<string>("SELECT video_id FROM publish_jobs WHERE id = $1", id));
        var events = await EventsAsync(id);
        Assert.Equal(("publish_queued", "pending"), (events[0].Kind, events[0].Status));
        Assert.Contains(events, e => e.Kind == "publish_status_changed" && e.Status == "uploading" && e.Progress >= 50);
        Assert.Equal(("publish_completed", "completed", 100), events[^1]);
        Assert.Equal(events.Select(e => e.Progress).Order(), events.Select(e => e.Progress));
    }

    [Fact]
    public async Task A_drive_file_is_downloaded_with_ranges_and_uploaded_through_dropped_connections_with_every_byte_sent_once()
    {
        await fixture.ConnectAsync("drive-user");
        var (source, content) = fixture.DriveSource(6 * PublishTestCluster.ChunkBytes + 77, seed: 2);
        var accepted = fixture.Google.UploadBytesAccepted;
        var misplaced = fixture.Google.MisplacedChunks;
        // Both connections drop mid-body: the download goes on from the bytes it has, the upload from the offset YouTube confirms.
        fixture.Google.DropNext("download", 100_000);
        fixture.Google.DropNext("upload", PublishTestCluster.ChunkBytes / 2 + 10);

        // The download and then the upload wait at the server's gates until the job shows each (heartbeats are coalesced:
        // a phase shorter than their gap would not be seen).
        fixture.Google.Hold("download");
        fixture.Google.Hold("upload");
        var (id, job, _) = await fixture.QueueAsync("drive-user", source);
        try
        {
            var downloading = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Downloading);
            Assert.InRange(downloading.Progress, 0, 49);
            fixture.Google.Release("download");
            var uploading = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Uploading);
            Assert.InRange(uploading.Progress, 50, 99);
        }
        finally
        {
            fixture.Google.Release("download");
            fixture.Google.Release("upload");
        }

        var done = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Completed);

        Assert.Equal(content, fixture.Google.Videos[done.VideoId!].Content);
        Assert.Equal(content.Length, fixture.Google.UploadBytesAccepted - accepted);
        Assert.Equal(misplaced, fixture.Google.MisplacedChunks);
        Assert.Equal(1, done.Attempts);
        Assert.Contains(fixture.Google.Requests, r => r.StartsWith($"GET /drive/v3/files/{source.DriveFileId}?alt=media", StringComparison.Ordinal));
        var events = await EventsAsync(id);
        Assert.Equal(["pending", "downloading", "uploading", "completed"], events.Select(e => e.Status).Distinct());
        // The staged copy is deleted once the job ended.
        var staging = Publisher.StagingBlob("drive-user", id);
        await WaitUntilAsync(async () => await fixture.Blobs.GetInfoAsync(staging.Container, staging.Name) is null);
    }

    [Fact]
    public async Task A_429_is_retried_with_backoff_and_a_400_fails_at_once_with_googles_message()
    {
        await fixture.ConnectAsync("retry-user");
        var (source, content) = await fixture.BlobSourceAsync("retry-user", PublishTestCluster.ChunkBytes + 5, seed: 3);
        fixture.Google.FailNext("upload-start", 429, "rateLimitExceeded", "Too many requests.");
        var (_, job, _) = await fixture.QueueAsync("retry-user", source);
        var done = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Completed);
        Assert.Equal(2, done.Attempts);
        Assert.Equal(content, fixture.Google.Videos[done.VideoId!].Content);

        // Bad metadata: Google's 400 fails the job at once, with Google's message.
        var (other, _) = await fixture.BlobSourceAsync("retry-user", 1000, seed: 4);
        var (_, badJob, _) = await fixture.QueueAsync("retry-user", other, PublishTestCluster.Metadata("A <bad> title"));
        var failed = await PublishTestCluster.WaitForStatusAsync(badJob, PublishStatus.Failed);
        Assert.Equal(1, failed.Attempts);
        Assert.Contains("invalidTitle", failed.Error, StringComparison.Ordinal);
        Assert.Contains("invalid or empty video title", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_errors_use_up_the_attempts_then_the_job_fails_and_a_retry_resumes_it()
    {
        await fixture.ConnectAsync("error-user");
        var (source, content) = await fixture.BlobSourceAsync("error-user", 3 * PublishTestCluster.ChunkBytes, seed: 5);
        for (var i = 0; i < PublishTestCluster.MaxAttempts; i++)
        {
            fixture.Google.FailNext("upload-start", 503, "backendError", "Backend Error");
        }

        var (_, job, _) = await fixture.QueueAsync("error-user", source);
        var failed = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Failed);
        Assert.Equal(PublishTestCluster.MaxAttempts, failed.Attempts);
        Assert.Contains("503", failed.Error, StringComparison.Ordinal);

        var retried = await job.Retry();
        Assert.Equal(PublishStatus.Pending, retried.Status);
        var done = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Completed);
        Assert.Equal(content, fixture.Google.Videos[done.VideoId!].Content);
        await Assert.ThrowsAsync<InvalidOperationException>(() => job.Retry());
    }

    [Fact]
    public async Task A_refused_token_is_refreshed_once_and_a_revoked_grant_fails_the_job_asking_to_reconnect()
    {
        await fixture.ConnectAsync("token-user");
        var (source, content) = await fixture.BlobSourceAsync("token-user", PublishTestCluster.ChunkBytes * 2, seed: 6);
        // The access token the account holds stops working (as when Google expires it early): 401, refresh, success.
        fixture.Google.AccessTokens.Clear();
        var refreshes = CountTokenRequests();
        var (_, job, _) = await fixture.QueueAsync("token-user", source);
        var done = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Completed);
        Assert.Equal(1, done.Attempts);
        Assert.Equal(content, fixture.Google.Videos[done.VideoId!].Content);
        Assert.True(CountTokenRequests() > refreshes);

        // Now the user revokes MediaActors at Google: the access token is refused and so is the refresh token.
        var (other, _) = await fixture.BlobSourceAsync("token-user", 1000, seed: 7);
        fixture.Google.AccessTokens.Clear();
        fixture.Google.RefreshTokens.Clear();
        var (_, revoked, _) = await fixture.QueueAsync("token-user", other);
        var failed = await PublishTestCluster.WaitForStatusAsync(revoked, PublishStatus.Failed);
        Assert.Equal(1, failed.Attempts);
        Assert.Contains("Reconnect your Google account", failed.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_same_file_is_not_uploaded_twice_unless_its_earlier_video_was_deleted()
    {
        await fixture.ConnectAsync("dedupe-user");
        var (source, _) = await fixture.BlobSourceAsync("dedupe-user", PublishTestCluster.ChunkBytes + 3, seed: 8);

        // Two jobs for the same file at the same moment: one holds it, the other is not created and names the holder.
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        var created = await Task.WhenAll(
            fixture.Client.GetGrain<IPublishJobGrain>(first).Create(new CreatePublishJob("dedupe-user", source, PublishTestCluster.Metadata())),
            fixture.Client.GetGrain<IPublishJobGrain>(second).Create(new CreatePublishJob("dedupe-user", source, PublishTestCluster.Metadata())));
        var winner = Assert.Single(created, v => v.Exists);
        var loser = Assert.Single(created, v => !v.Exists);
        Assert.Equal(winner.Id, loser.DuplicateOf);
        var uploaded = await PublishTestCluster.WaitForStatusAsync(fixture.Client.GetGrain<IPublishJobGrain>(winner.Id), PublishStatus.Completed);
        Assert.False((await fixture.Client.GetGrain<IPublishJobGrain>(loser.Id).Get()).Exists);

        // Queued again later: the earlier video still exists, so the job completes with it and nothing is sent.
        var accepted = fixture.Google.UploadBytesAccepted;
        var (_, again, _) = await fixture.QueueAsync("dedupe-user", source);
        var existing = await PublishTestCluster.WaitForStatusAsync(again, PublishStatus.Completed);
        Assert.True(existing.AlreadyOnYouTube);
        Assert.Equal(uploaded.VideoId, existing.VideoId);
        Assert.Equal(accepted, fixture.Google.UploadBytesAccepted);

        // The user deleted that video on YouTube: the next job uploads the file again.
        fixture.Google.Videos[uploaded.VideoId!].Deleted = true;
        var (_, third, _) = await fixture.QueueAsync("dedupe-user", source);
        var reuploaded = await PublishTestCluster.WaitForStatusAsync(third, PublishStatus.Completed);
        Assert.False(reuploaded.AlreadyOnYouTube);
        Assert.NotEqual(uploaded.VideoId, reuploaded.VideoId);
        Assert.Equal(source.SizeBytes, fixture.Google.UploadBytesAccepted - accepted);
    }

    [Fact]
    public async Task A_cancelled_upload_stops_and_its_retry_resumes_the_same_session_from_the_confirmed_offset()
    {
        await fixture.ConnectAsync("cancel-user");
        var (source, content) = await fixture.BlobSourceAsync("cancel-user", 8 * PublishTestCluster.ChunkBytes, seed: 9);
        var accepted = fixture.Google.UploadBytesAccepted;
        var starts = fixture.Google.Requests.Count(r => r.StartsWith("POST /upload/", StringComparison.Ordinal));
        // The first three chunks go through; the fourth waits at the server's gate.
        fixture.Google.Hold("upload", fromByte: 3 * PublishTestCluster.ChunkBytes);
        try
        {
            var (_, job, _) = await fixture.QueueAsync("cancel-user", source);
            await WaitUntilAsync(() => Task.FromResult(fixture.Google.Held > 0));
            await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Uploading);
            Assert.Equal(PublishStatus.Cancelled, (await job.Cancel()).Status);
            // The attempt learns it at its next heartbeat and abandons the chunk in flight.
            await WaitUntilAsync(() => Task.FromResult(fixture.Google.Held == 0));
            fixture.Google.Release("upload");
            Assert.Equal(3 * PublishTestCluster.ChunkBytes, fixture.Google.UploadBytesAccepted - accepted);

            await job.Retry();
            var done = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Completed);
            Assert.Equal(content, fixture.Google.Videos[done.VideoId!].Content);
            // One session, each byte once: the retry went on from the confirmed offset, not from zero.
            Assert.Equal(content.Length, fixture.Google.UploadBytesAccepted - accepted);
            Assert.Equal(starts + 1, fixture.Google.Requests.Count(r => r.StartsWith("POST /upload/", StringComparison.Ordinal)));
        }
        finally
        {
            fixture.Google.Release("upload");
        }
    }

    [Fact]
    public async Task A_read_while_the_job_state_is_being_written_shows_what_is_stored_not_the_change_in_flight()
    {
        await fixture.ConnectAsync("read-user");
        var (source, _) = await fixture.BlobSourceAsync("read-user", 2 * PublishTestCluster.ChunkBytes, seed: 9);
        fixture.Google.Hold("upload");
        var (_, job, _) = await fixture.QueueAsync("read-user", source);
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        try
        {
            await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Uploading);

            // Grain state is locked against writes, so the write of "completed" waits; the read (which interleaves) must not show it.
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var lockRows = new Npgsql.NpgsqlCommand("LOCK TABLE orleans_storage IN EXCLUSIVE MODE", connection, transaction))
            {
                await lockRows.ExecuteNonQueryAsync();
            }

            fixture.Google.Release("upload");
            await WaitUntilAsync(async () => await fixture.Database.ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%orleans_storage%'") > 0);
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(PublishStatus.Uploading, (await job.Get()).Status);
                await Task.Delay(50);
            }

            await transaction.RollbackAsync();
            var done = await PublishTestCluster.WaitForStatusAsync(job, PublishStatus.Completed);
            Assert.Equal(100, done.Progress);
        }
        finally
        {
            fixture.Google.Release("upload");
        }
    }

    private int CountTokenRequests() => fixture.Google.Requests.Count(r => r.StartsWith("POST /token", StringComparison.Ordinal));

    /// <summary>The job's events in order (once it ended): kind, status and progress of each.</summary>
    private async Task<List<(string Kind, string Status, int Progress)>> EventsAsync(Guid id)
    {
        await WaitUntilAsync(async () => await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM project_events WHERE project_id = $1 AND kind IN ('publish_completed', 'publish_failed')", id) > 0);
        var events = new List<(string, string, int)>();
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT kind, payload->>'status', (payload->>'progress')::int FROM project_events WHERE project_id = $1 AND payload ? 'status' ORDER BY seq");
        command.Parameters.Add(new Npgsql.NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            events.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
        }

        return events;
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Condition not met within {seconds} s.");
            await Task.Delay(50);
        }
    }
}
