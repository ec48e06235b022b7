using MediaActors.Runtime.TestSilo;

namespace MediaActors.Runtime.Tests;

public sealed class StateAndConcurrencyTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task State_survives_a_silo_restart()
    {
        var first = await Cluster.StartSiloAsync(database.ConnectionString, "first");
        var counter = first.Client().GetGrain<ICounterGrain>("restart");
        for (var i = 0; i < 42; i++)
        {
            await counter.Increment();
        }

        await first.StopAsync();

        var second = await Cluster.StartSiloAsync(database.ConnectionString, "second");
        try
        {
            var state = await second.Client().GetGrain<ICounterGrain>("restart").Get();
            Assert.Equal(42, state.Count);
            Assert.Equal(42, state.Turns);
            Assert.Equal(43, await second.Client().GetGrain<ICounterGrain>("restart").Increment());
        }
        finally
        {
            await second.StopAsync();
        }
    }

    [Fact]
    public async Task A_state_type_can_gain_fields_without_breaking_stored_rows()
    {
        // A row written by an older version of CounterState: no Label, and a field that no longer exists.
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        await database.ExecuteAsync(
            """
            INSERT INTO runtime.grains (grain_type, grain_key, state, version) VALUES ('test-counter', 'old-row', '{"count": 7, "retired": true}', 3)
            """);

        var counter = silo.Host.Client().GetGrain<ICounterGrain>("old-row");
        var state = await counter.Get();
        Assert.Equal(7, state.Count);
        Assert.Equal("unlabelled", state.Label);
        // A read changes nothing, so only the increment wrote a new version.
        Assert.Equal(8, await counter.Increment());
        Assert.Equal(4L, await database.ScalarAsync<long>("SELECT version FROM runtime.grains WHERE grain_key = 'old-row'"));
    }

    [Fact]
    public async Task Two_silos_run_10000_concurrent_increments_on_50_grains_exactly()
    {
        await using var siloA = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, "a"));
        await using var siloB = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, "b"));
        var client = siloA.Host.Client();
        var before = CounterGrain.OverlapViolations;

        const int grains = 50;
        const int perGrain = 200;
        var calls = Enumerable.Range(0, grains * perGrain)
            // All 10,000 are queued at once: the last ones may wait longer than the default call timeout on a loaded machine.
            .Select(i => (Key: $"contended-{i % grains}",
                Grain: (i % 2 == 0 ? siloA : siloB).Host.Client().WithTimeout(TimeSpan.FromMinutes(3)).GetGrain<ICounterGrain>($"contended-{i % grains}")))
            .Select(async c => (c.Key, Value: await c.Grain.Increment()))
            .ToList();
        var results = await Task.WhenAll(calls);

        // Each grain's replies are exactly 1..200: no increment was lost, doubled or interleaved.
        foreach (var group in results.GroupBy(r => r.Key))
        {
            Assert.Equal(Enumerable.Range(1, perGrain).Select(v => (long)v), group.Select(r => r.Value).Order());
            Assert.Equal(perGrain, (await client.GetGrain<ICounterGrain>(group.Key).Get()).Count);
        }

        Assert.Equal(grains, results.Select(r => r.Key).Distinct().Count());
        Assert.Equal(before, CounterGrain.OverlapViolations);
        // Both silos are active members (one starved of CPU for a moment may have been marked dead: its next heartbeat revives it).
        await Cluster.EventuallyAsync(
            () => database.ScalarAsync<long>("SELECT count(DISTINCT name) FROM runtime.silos WHERE status = 'active' AND name IN ('a', 'b')"),
            n => n == 2, TimeSpan.FromSeconds(30), "both silos active");
    }

    [Fact]
    public async Task A_failing_turn_changes_nothing_and_the_caller_gets_the_error()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        var counter = silo.Host.Client().GetGrain<ICounterGrain>("failing");
        await counter.Increment();

        var error = await Assert.ThrowsAsync<GrainCallException>(() => counter.Fail("bad input"));
        Assert.Contains("bad input", error.Message);
        Assert.Equal(1, (await counter.Get()).Count);
    }
}

/// <summary>Stops an in-process host at the end of a test.</summary>
public sealed class AsyncHost(Microsoft.Extensions.Hosting.IHost host) : IAsyncDisposable
{
    public Microsoft.Extensions.Hosting.IHost Host { get; } = host;

    public async ValueTask DisposeAsync() => await Host.StopAsync();
}
