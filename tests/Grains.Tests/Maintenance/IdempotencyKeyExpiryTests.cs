using MediaActors.Grains.Maintenance;
using MediaActors.ServiceDefaults.Database;
using MediaActors.ServiceDefaults.Tests;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Grains.Tests.Maintenance;

/// <summary>The silos' sweep of Idempotency-Keys past their lifetime, on the migrated schema.</summary>
public sealed class IdempotencyKeyExpiryTests : IAsyncLifetime
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
}
