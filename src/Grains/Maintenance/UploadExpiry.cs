using MediaActors.Providers.Storage;
using MediaActors.Grains.Projects;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Grains.Maintenance;

/// <summary>Expiry of uploads that were never completed (section "Uploads", read by the silos).</summary>
public sealed class UploadExpiryOptions
{
    /// <summary>How long after its upload URL expired a pending upload is given before it expires (a client may still be committing or completing).</summary>
    public TimeSpan PendingGrace { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often a silo looks for pending uploads to expire; zero turns expiry off.</summary>
    public TimeSpan ExpirySweepInterval { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Expires uploads that were created but never completed, once <see cref="UploadExpiryOptions.PendingGrace"/> has passed
/// after their upload URL expired: the blob (if the client committed one) is deleted, the row becomes 'expired' (so a
/// late complete or a new project on it gets 410), and a project waiting for it fails with a message saying so.
/// Each batch holds its rows locked (FOR UPDATE SKIP LOCKED) until the blobs are deleted and the projects told, so silos
/// never expire the same upload twice at once and a concurrent complete waits, then finds the upload expired.
/// A crash part-way leaves the rows pending; the next sweep does it again (every step is idempotent).
/// </summary>
public sealed class UploadExpiryService(NpgsqlDataSource dataSource, BlobStore blobs, IGrainFactory grains, IOptions<UploadExpiryOptions> options,
    ILogger<UploadExpiryService> logger) : PeriodicService(logger)
{
    private const int BatchSize = 100;

    private readonly UploadExpiryOptions _options = options.Value;

    protected override TimeSpan Interval => _options.ExpirySweepInterval;

    protected override string JobName => "Expiring pending uploads";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>Expires every pending upload past its grace, batch by batch; returns how many expired.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var expired = await ExpireBatchAsync(cancellationToken);
            total += expired;
            if (expired < BatchSize)
            {
                break;
            }
        }

        return total;
    }

    private async Task<int> ExpireBatchAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var uploads = new List<(Guid Id, string Container, string BlobName, Guid? ProjectId, DateTimeOffset ExpiresAt)>();
        await using (var select = new NpgsqlCommand(
            """
            UPDATE uploads u SET status = 'expired'
            FROM (SELECT id FROM uploads WHERE status = 'pending' AND expires_at < now() - $1 * interval '1 millisecond'
                  ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
            WHERE u.id = due.id
            RETURNING u.id, u.container, u.blob_name, u.project_id, u.expires_at
            """, connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)_options.PendingGrace.TotalMilliseconds });
            select.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BatchSize });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                uploads.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetGuid(3),
                    new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero)));
            }
        }

        var failed = 0;
        foreach (var upload in uploads)
        {
            try
            {
                await blobs.DeleteIfExistsAsync(upload.Container, upload.BlobName, cancellationToken);
                if (upload.ProjectId is { } projectId)
                {
                    // Answered once the project's state says so (a repeat is harmless; a lost call is caught by the project's watchdog).
                    await grains.GetGrain<IProjectGrain>(projectId).UploadExpired(upload.ExpiresAt);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // This one stays pending for the next sweep; the rest of the batch goes ahead.
                failed++;
                logger.LogWarning(ex, "Could not expire upload {UploadId}; it stays pending and is tried again next sweep", upload.Id);
                await using var keep = new NpgsqlCommand("UPDATE uploads SET status = 'pending' WHERE id = $1", connection, transaction);
                keep.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = upload.Id });
                await keep.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        if (uploads.Count > 0)
        {
            logger.LogInformation("Expired {Count} uploads that were never completed ({WithProject} had a project waiting, {Failed} failed)",
                uploads.Count - failed, uploads.Count(upload => upload.ProjectId is not null), failed);
        }

        // A full batch means there may be more, even if some of it failed.
        return failed == uploads.Count ? 0 : uploads.Count;
    }
}
