using MediaActors.Grains.Maintenance;
using MediaActors.ServiceDefaults.Database;
using MediaActors.ServiceDefaults.Tests;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Grains.Tests.Maintenance;

/// <summary>The silos' sweeps on the migrated schema: Idempotency-Keys past their lifetime, events past their retention.</summary>
public sealed class MaintenanceSweepTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        await new SchemaMigrator(_dataSource, [], NullLogger<SchemaMigrator>.Instance).MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Expired_keys_are_deleted_and_live_ones_kept_whether_answered_or_still_claimed()
    {
        await _database.ExecuteAsync(
            """
            INSERT INTO idempotency_keys (user_id, key, fingerprint, resource_id, claim_token, lease_until, response_status, response_body, created_at, completed_at, expires_at)
            VALUES ('ann', 'old-answered', '\x01', gen_random_uuid(), NULL, NULL, 201, '\x7b7d', now() - interval '25 hours', now() - interval '25 hours', now() - interval '1 hour'),
                   ('ann', 'old-claimed', '\x02', gen_random_uuid(), gen_random_uuid(), now() - interval '24 hours', NULL, NULL, now() - interval '25 hours', NULL, now() - interval '1 second'),
                   ('ann', 'live-answered', '\x03', gen_random_uuid(), NULL, NULL, 202, '\x7b7d', now(), now(), now() + interval '24 hours'),
                   ('bob', 'live-claimed', '\x04', gen_random_uuid(), gen_random_uuid(), now() + interval '10 seconds', NULL, NULL, now(), NULL, now() + interval '24 hours')
            """);

        var service = new IdempotencyKeyExpiryService(_dataSource, Options.Create(new IdempotencyKeyExpiryOptions()), NullLogger<IdempotencyKeyExpiryService>.Instance);
        Assert.Equal(2, await service.SweepAsync(CancellationToken.None));
        Assert.Equal("live-answered,live-claimed", await _database.ScalarAsync<string>("SELECT string_agg(key, ',' ORDER BY key) FROM idempotency_keys"));
        Assert.Equal(0, await service.SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Events_past_their_retention_are_deleted_in_batches_and_newer_ones_kept()
    {
        await _database.ExecuteAsync(
            """
            INSERT INTO project_events (project_id, seq, kind, payload, created_at)
            SELECT '01a23c00-0000-7000-8000-000000000001'::uuid, n, 'progress', '{}'::jsonb, now() - interval '40 days' + n * interval '1 second'
            FROM generate_series(1, 12000) n
            UNION ALL
            SELECT '01a23c00-0000-7000-8000-000000000001'::uuid, 12000 + n, 'progress', '{}'::jsonb, now() - interval '1 day' FROM generate_series(1, 3) n
            """);

        var service = new EventRetentionService(_dataSource, Options.Create(new EventOptions { Retention = TimeSpan.FromDays(30) }),
            NullLogger<EventRetentionService>.Instance);
        Assert.Equal(12000, await service.SweepAsync(CancellationToken.None));
        Assert.Equal("12001-12003", await _database.ScalarAsync<string>("SELECT min(seq) || '-' || max(seq) FROM project_events"));
        Assert.Equal(0, await service.SweepAsync(CancellationToken.None));
    }
}
