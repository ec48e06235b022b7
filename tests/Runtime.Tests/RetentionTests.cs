using MediaActors.Runtime.TestSilo;
using Microsoft.Extensions.DependencyInjection;

namespace MediaActors.Runtime.Tests;

/// <summary>Finished work, old events and old dead messages are deleted by age; nothing still needed is touched.</summary>
public sealed class RetentionTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_sweep_deletes_only_what_is_past_its_retention_and_event_numbers_go_on()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, configure: settings =>
        {
            settings["Runtime:RetentionInterval"] = "00:00:00"; // the test runs the sweep itself
            settings["Runtime:FinishedWorkRetention"] = "1.00:00:00";
            settings["Runtime:EventRetention"] = "1.00:00:00";
            settings["Runtime:DeadMessageRetention"] = "1.00:00:00";
        }));
        var grain = silo.Host.Client().GetGrain<IEventGrain>("retained");
        await grain.Emit(5);
        await database.ExecuteAsync(
            """
            UPDATE runtime.events SET created_at = now() - interval '2 days' WHERE grain_key = 'retained' AND seq <= 3;
            INSERT INTO runtime.work_items (id, kind, payload, owner_type, owner_key, status, created_at, started_at, finished_at) VALUES
              ('00000000-0000-0000-0000-000000000001', 'retention.test', '{}', 't', 'k', 'succeeded', now() - interval '3 days', now() - interval '3 days', now() - interval '2 days'),
              ('00000000-0000-0000-0000-000000000002', 'retention.test', '{}', 't', 'k', 'failed',    now() - interval '3 days', now() - interval '3 days', now() - interval '2 days'),
              ('00000000-0000-0000-0000-000000000003', 'retention.test', '{}', 't', 'k', 'cancelled', now() - interval '3 days', now() - interval '3 days', now() - interval '2 days'),
              ('00000000-0000-0000-0000-000000000004', 'retention.test', '{}', 't', 'k', 'succeeded', now() - interval '3 days', now() - interval '3 days', now() - interval '1 hour'),
              ('00000000-0000-0000-0000-000000000005', 'retention.test', '{}', 't', 'k', 'pending',   now() - interval '9 days', NULL, NULL),
              ('00000000-0000-0000-0000-000000000006', 'retention.test', '{}', 't', 'k', 'running',   now() - interval '9 days', now() - interval '9 days', NULL);
            INSERT INTO runtime.work_attempts (item_id, attempt, silo, started_at, finished_at, outcome) VALUES
              ('00000000-0000-0000-0000-000000000001', 1, 's', now() - interval '3 days', now() - interval '2 days', 'succeeded'),
              ('00000000-0000-0000-0000-000000000004', 1, 's', now() - interval '3 days', now() - interval '1 hour', 'succeeded');
            INSERT INTO runtime.dead_messages (id, grain_type, grain_key, method, args, attempts, created_at, failed_at) VALUES
              (900001, 't', 'k', 'M', '[]', 5, now() - interval '3 days', now() - interval '2 days'),
              (900002, 't', 'k', 'M', '[]', 5, now() - interval '3 days', now() - interval '1 hour');
            """);
        var retention = silo.Host.Services.GetRequiredService<RetentionService>();

        var result = await retention.SweepAsync(CancellationToken.None);

        Assert.Equal(new RetentionResult(true, 3, 3, 1), result);
        Assert.Equal(new[] { "00000000-0000-0000-0000-000000000004", "00000000-0000-0000-0000-000000000005", "00000000-0000-0000-0000-000000000006" },
            await database.ScalarAsync<string[]>("SELECT array_agg(id::text ORDER BY id) FROM runtime.work_items WHERE kind = 'retention.test'"));
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.work_attempts WHERE item_id::text LIKE '00000000-%'"));
        Assert.Equal(new long[] { 900002 }, await database.ScalarAsync<long[]>("SELECT array_agg(id) FROM runtime.dead_messages"));
        Assert.Equal(new long[] { 4, 5 }, await database.ScalarAsync<long[]>("SELECT array_agg(seq ORDER BY seq) FROM runtime.events WHERE grain_key = 'retained'"));

        // The grain's sequence lives in its state: the next event is 6, never a reused 1.
        await grain.Emit(1);
        Assert.Equal(new long[] { 4, 5, 6 }, await database.ScalarAsync<long[]>("SELECT array_agg(seq ORDER BY seq) FROM runtime.events WHERE grain_key = 'retained'"));
        var caughtUp = await silo.Host.Client().Events.ReadAsync(GrainId.For<IEventGrain>("retained"), afterSeq: 0);
        Assert.Equal([4L, 5L, 6L], caughtUp.Select(e => e.Seq));

        // A second sweep finds nothing more.
        Assert.Equal(new RetentionResult(true, 0, 0, 0), await retention.SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Only_one_silo_sweeps_at_a_time()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, "sweeper",
            settings => settings["Runtime:RetentionInterval"] = "00:00:00"));
        var retention = silo.Host.Services.GetRequiredService<RetentionService>();
        await using var other = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await other.OpenAsync();
        await using (var hold = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(5566821072126429518)", other))
        {
            await hold.ExecuteNonQueryAsync();
        }

        Assert.False((await retention.SweepAsync(CancellationToken.None)).Swept);

        await using (var release = new Npgsql.NpgsqlCommand("SELECT pg_advisory_unlock(5566821072126429518)", other))
        {
            await release.ExecuteNonQueryAsync();
        }

        Assert.True((await retention.SweepAsync(CancellationToken.None)).Swept);
    }
}
