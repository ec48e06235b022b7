using MediaActors.Grains.Projects;
using Npgsql;

namespace MediaActors.Grains.Publish;

/// <summary>The publish job grain's writes outside its state: its read-model row and its events.</summary>
public interface IPublishStore
{
    /// <summary>Writes the job's row (replaced only by a higher version) and its pending events, in one transaction; idempotent.</summary>
    Task FlushAsync(Guid jobId, PublishJobState state, CancellationToken cancellationToken = default);
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

    // A null timestamp needs its type (the shared helper types nulls as text).
    private static object Time(DateTimeOffset? value) => value is { } v ? v.UtcDateTime : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz };
}
