using MediaActors.Runtime.TestSilo;

namespace MediaActors.Runtime.Tests;

public sealed class CallTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_request_returns_the_grains_value()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        await using var client = new AsyncHost(await Cluster.StartClientAsync(database.ConnectionString));
        var counter = client.Host.Client().GetGrain<ICounterGrain>("request");

        Assert.Equal(1, await counter.Increment());
        Assert.Equal(2, await counter.Increment());
        await counter.Add(10);
        var state = await counter.Get();
        Assert.Equal(12, state.Count);
        Assert.Equal(3, state.Turns);
    }

    [Fact]
    public async Task With_no_silo_a_request_times_out_and_is_never_applied_later()
    {
        await using var client = new AsyncHost(await Cluster.StartClientAsync(database.ConnectionString));
        var counter = client.Host.Client().WithTimeout(TimeSpan.FromSeconds(1)).GetGrain<ICounterGrain>("nobody-home");

        var error = await Assert.ThrowsAsync<TimeoutException>(() => counter.Increment());
        Assert.Contains("no silo processed it", error.Message);

        // A silo that starts later drops the expired request instead of applying it.
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        Assert.Equal(0, (await silo.Host.Client().GetGrain<ICounterGrain>("nobody-home").Get()).Count);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.messages WHERE grain_key = 'nobody-home'"));
    }

    [Fact]
    public async Task A_failing_one_way_message_holds_back_its_grains_later_messages_until_it_succeeds_or_is_dead_lettered()
    {
        // Queued before any silo runs, so that one batch sees them all: 2 fails twice, poison's 2 fails every time.
        await using (var client = new AsyncHost(await Cluster.StartClientAsync(database.ConnectionString)))
        {
            var ordered = client.Host.Client().GetGrain<IOrderGrain>("ordered");
            await ordered.Append(1, 0);
            await ordered.Append(2, 2);
            await ordered.Append(3, 0);
            await ordered.Append(4, 0);
            var poisoned = client.Host.Client().GetGrain<IOrderGrain>("poisoned");
            await poisoned.Append(1, 0);
            await poisoned.Append(2, int.MaxValue);
            await poisoned.Append(3, 0);
        }

        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        // A request sent after them is answered after them: in the order sent, the retried one in its place.
        var factory = silo.Host.Client().WithTimeout(TimeSpan.FromMinutes(2));
        Assert.Equal([1, 2, 3, 4], await factory.GetGrain<IOrderGrain>("ordered").Numbers());
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.messages WHERE grain_key = 'ordered'"));
        // One that never succeeds holds the rest back only until it is dead-lettered (5 attempts, about 17 s of backoff).
        Assert.Equal([1, 3], await factory.GetGrain<IOrderGrain>("poisoned").Numbers());
        Assert.Equal("Append", await database.ScalarAsync<string>("SELECT method FROM runtime.dead_messages WHERE grain_key = 'poisoned'"));
        Assert.Equal(5, await database.ScalarAsync<int>("SELECT attempts FROM runtime.dead_messages WHERE grain_key = 'poisoned'"));
    }

    [Fact]
    public async Task One_way_calls_are_durable_before_any_silo_runs()
    {
        await using (var client = new AsyncHost(await Cluster.StartClientAsync(database.ConnectionString)))
        {
            var counter = client.Host.Client().GetGrain<ICounterGrain>("queued");
            for (var i = 0; i < 25; i++)
            {
                await counter.Add(2);
            }
        }

        Assert.Equal(25L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.messages WHERE grain_key = 'queued'"));
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        Assert.Equal(50, (await silo.Host.Client().GetGrain<ICounterGrain>("queued").Get()).Count);
    }
}
