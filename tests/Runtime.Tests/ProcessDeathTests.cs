using MediaActors.Runtime.TestSilo;

namespace MediaActors.Runtime.Tests;

/// <summary>Silos as real processes, killed with SIGKILL in the middle of a turn or of a work item.</summary>
public sealed class ProcessDeathTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Killing_a_silo_mid_turn_loses_no_message_and_applies_each_transition_once()
    {
        await using var client = new AsyncHost(await Cluster.StartClientAsync(database.ConnectionString));
        var counter = client.Host.Client().GetGrain<ICounterGrain>("mid-turn");
        await using (var doomed = await SiloProcess.StartAsync(database.ConnectionString, "doomed", new Dictionary<string, string> { ["SLOW_TURNS"] = "1" }))
        {
            for (var i = 0; i < 10; i++)
            {
                await counter.Add(1);
            }

            await Cluster.EventuallyAsync(counter.Get, s => s.Count == 10, Wait, "the first ten adds");
            await counter.SlowAdd(100);
            await doomed.WaitForLineAsync(l => l == "TURN-STARTED mid-turn", Wait);
            // Messages sent while the turn hangs, then SIGKILL.
            for (var i = 0; i < 5; i++)
            {
                await counter.Add(1000);
            }

            doomed.Kill();
        }

        await using var survivor = await SiloProcess.StartAsync(database.ConnectionString, "survivor");
        var state = await Cluster.EventuallyAsync(counter.Get, s => s.Count >= 5110, Wait, "every message after the kill");
        Assert.Equal(5110, state.Count);
        Assert.Equal(16, state.Turns);
        // One event per applied add, numbered without gaps or repeats.
        var events = await client.Host.Client().Events.ReadAsync(GrainId.For<ICounterGrain>("mid-turn"), 0);
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.Equal(1, events.Count(e => e.Payload.GetProperty("amount").GetInt64() == 100));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.messages WHERE grain_key = 'mid-turn'"));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.dead_messages"));
    }

    [Fact]
    public async Task Killing_a_silo_mid_work_item_lets_another_silo_complete_it_after_the_lease_expires()
    {
        await using var client = new AsyncHost(await Cluster.StartClientAsync(database.ConnectionString));
        var job = client.Host.Client().GetGrain<IJobGrain>("mid-work");
        // A long lease for the doomed silo: starved of CPU while the survivor starts, it must not see its own lease expire and
        // claim the item again as a further attempt. Once killed, it is declared dead (SiloDeadAfter) and its lease released.
        await using var doomed = await SiloProcess.StartAsync(database.ConnectionString, "hanging", new Dictionary<string, string>
        {
            ["HANG_WORK"] = "1",
            ["Runtime__WorkLease"] = "00:00:20",
        });
        var itemId = await job.Start("echo", "survive", 3);
        await doomed.WaitForLineAsync(l => l == $"WORK-STARTED {itemId}", Wait);

        await using var survivor = await SiloProcess.StartAsync(database.ConnectionString, "healthy");
        doomed.Kill();

        var state = await Cluster.EventuallyAsync(job.Status, s => s.Results.Count > 0, Wait, "the work result from the other silo");
        var result = state.Results.Single();
        Assert.Equal(WorkStatus.Succeeded, result.Status);
        Assert.Equal(new EchoOutput("SURVIVE", "healthy"), result.OutputAs<EchoOutput>());
        Assert.Equal(2, result.Attempts);
        Assert.Equal("lease_expired", await database.ScalarAsync<string>("SELECT outcome FROM runtime.work_attempts WHERE item_id = $1 AND attempt = 1", itemId));
        Assert.StartsWith("hanging#", await database.ScalarAsync<string>("SELECT silo FROM runtime.work_attempts WHERE item_id = $1 AND attempt = 1", itemId));
        Assert.StartsWith("healthy#", await database.ScalarAsync<string>("SELECT silo FROM runtime.work_attempts WHERE item_id = $1 AND attempt = 2", itemId));
    }
}
