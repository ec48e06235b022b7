using MediaActors.Grains.Projects;
using Npgsql;

namespace MediaActors.Grains.Publish;

/// <summary>The publish job grain's writes outside its state: its read-model row and its events.</summary>
public interface IPublishStore
{
    /// <summary>Writes the job's row (replaced only by a higher version) and its pending events, in one transaction; idempotent.</summary>
    Task FlushAsync(Guid jobId, PublishJobState state, CancellationToken cancellationToken = default);

    /// <summary>Writes a folder watch's row (replaced only by a higher version).</summary>
    Task SaveFolderAsync(Guid watchId, FolderWatchState state, DateTimeOffset? nextScanAt, CancellationToken cancellationToken = default);

    Task DeleteFolderAsync(Guid watchId, CancellationToken cancellationToken = default);
}

/// <summary><see cref="IPublishStore"/> on PostgreSQL: table publish_jobs and the shared event log (with NOTIFY to the API hosts).</summary>
public sealed class PublishStore(NpgsqlDataSource dataSource) : IPublishStore
{
    public async Task FlushAsync(Guid jobId, PublishJobState state, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            var source = state.Source!;
            batch.BatchCommands.Add(ProjectStore.Command(
                """
                INSERT INTO publish_jobs (id, user_id, status, progress, source, metadata, md5, video_id, already_on_youtube, error, attempts,
                    retry_at, waiting_for_quota_until, folder_id, created_at, updated_at, completed_at, version, event_seq)
                VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, progress = excluded.progress, video_id = excluded.video_id,
                    already_on_youtube = excluded.already_on_youtube, error = excluded.error, attempts = excluded.attempts, retry_at = excluded.retry_at,
                    waiting_for_quota_until = excluded.waiting_for_quota_until, updated_at = excluded.updated_at, completed_at = excluded.completed_at,
                    version = excluded.version, event_seq = excluded.event_seq
                WHERE publish_jobs.version < excluded.version
                """,
                jobId, state.UserId, ProjectStore.Name(state.Status), state.Progress, ProjectStore.Json(source), ProjectStore.Json(state.Metadata),
                source.Md5, state.VideoId, state.AlreadyOnYouTube, state.Error, state.Attempts, Time(state.RetryAt), Time(state.WaitingForQuotaUntil),
                state.FolderId, state.CreatedAt.UtcDateTime, state.UpdatedAt.UtcDateTime, Time(state.CompletedAt), state.Version, state.EventSeq));
            ProjectStore.AppendEvents(batch, jobId, state.Outbox);
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task SaveFolderAsync(Guid watchId, FolderWatchState state, DateTimeOffset? nextScanAt, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(ProjectStore.Command(
            """
            INSERT INTO publish_folders (id, user_id, drive_folder, blob_prefix, interval_s, defaults, last_scan_at, next_scan_at, last_error, files_seen,
                jobs_queued, created_at, version)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13)
            ON CONFLICT (id) DO UPDATE SET last_scan_at = excluded.last_scan_at, next_scan_at = excluded.next_scan_at, last_error = excluded.last_error,
                files_seen = excluded.files_seen, jobs_queued = excluded.jobs_queued, version = excluded.version
            WHERE publish_folders.version < excluded.version
            """,
            watchId, state.UserId, state.DriveFolderId, state.BlobPrefix, (int)state.Interval.TotalSeconds, ProjectStore.Json(state.Defaults), Time(state.LastScanAt),
            Time(nextScanAt), state.LastError, state.Seen.Count, state.JobsQueued, state.CreatedAt.UtcDateTime, state.Version));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task DeleteFolderAsync(Guid watchId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM publish_folders WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = watchId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // A null timestamp needs its type (the shared helper types nulls as text).
    internal static object Time(DateTimeOffset? value) => value is { } v ? v.UtcDateTime : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz };
}
