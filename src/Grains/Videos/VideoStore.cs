using MediaActors.Grains.Projects;
using MediaActors.Grains.Publish;
using Npgsql;

namespace MediaActors.Grains.Videos;

/// <summary>The video grain's writes outside its state: its read-model row and its events.</summary>
public interface IVideoStore
{
    /// <summary>Writes the row (replaced only by a higher version; removed once deleted) and the pending events, in one transaction.</summary>
    Task FlushAsync(Guid videoId, VideoState state, CancellationToken cancellationToken = default);
}

/// <summary><see cref="IVideoStore"/> on PostgreSQL: table videos and the shared event log.</summary>
public sealed class VideoStore(NpgsqlDataSource dataSource) : IVideoStore
{
    public async Task FlushAsync(Guid videoId, VideoState state, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            if (state.Status == VideoStatus.Deleted)
            {
                batch.BatchCommands.Add(ProjectStore.Command("DELETE FROM videos WHERE id = $1", videoId));
            }
            else
            {
                batch.BatchCommands.Add(ProjectStore.Command(
                    """
                    INSERT INTO videos (id, user_id, status, kind, title, avatar, voice, request, execution_id, error, blob_container, blob_name, size_bytes,
                        media, late_callbacks, created_at, dispatched_at, ready_at, estimated_ready_at, updated_at, version, event_seq)
                    VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, $17, $18, $19, $20, $21, $22)
                    ON CONFLICT (id) DO UPDATE SET status = excluded.status, execution_id = excluded.execution_id, error = excluded.error,
                        blob_container = excluded.blob_container, blob_name = excluded.blob_name, size_bytes = excluded.size_bytes, media = excluded.media,
                        late_callbacks = excluded.late_callbacks, dispatched_at = excluded.dispatched_at, ready_at = excluded.ready_at,
                        updated_at = excluded.updated_at, version = excluded.version, event_seq = excluded.event_seq
                    WHERE videos.version < excluded.version
                    """,
                    videoId, state.UserId, ProjectStore.Name(state.Status), state.Kind, state.Title, ProjectStore.Json(state.Avatar), ProjectStore.Json(state.Voice),
                    state.RequestJson, state.ExecutionId, state.Error, state.Blob?.Container, state.Blob?.Name, Long(state.SizeBytes),
                    state.Media is null ? null : ProjectStore.Json(state.Media), state.LateCallbacks.Count, state.CreatedAt.UtcDateTime,
                    PublishStore.Time(state.DispatchedAt), PublishStore.Time(state.ReadyAt), state.EstimatedReadyAt.UtcDateTime, state.UpdatedAt.UtcDateTime,
                    state.Version, state.EventSeq));
            }

            ProjectStore.AppendEvents(batch, videoId, state.Outbox);
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static object Long(long? value) => value is { } v ? v : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint };
}
