using MediaActors.Runtime.TestSilo;

namespace MediaActors.Runtime.Tests;

public sealed class ReminderTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_one_shot_reminder_fires_once_and_not_before_its_due_time()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        var grain = silo.Host.Client().GetGrain<IReminderGrain>("one-shot");
        await grain.Schedule("once", dueMs: 1500, periodMs: null);

        var log = await Cluster.EventuallyAsync(grain.Log, l => l.Fired.Count >= 1, Wait, "the reminder to fire");
        var due = log.Scheduled.Single().At;
        var fired = log.Fired.Single();
        Assert.Equal("once", fired.Name);
        // Typically within 100 ms; the bound leaves room for a loaded machine.
        Assert.InRange((fired.At - due).TotalMilliseconds, 0, 5000);

        // A later reminder on the same grain fires while "once" does not fire again.
        await grain.Schedule("marker", dueMs: 1000, periodMs: null);
        log = await Cluster.EventuallyAsync(grain.Log, l => l.Fired.Any(f => f.Name == "marker"), Wait, "the marker reminder");
        Assert.Single(log.Fired, f => f.Name == "once");
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.reminders WHERE grain_key = 'one-shot'"));
    }

    [Fact]
    public async Task A_periodic_reminder_repeats_until_cancelled()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        var grain = silo.Host.Client().GetGrain<IReminderGrain>("periodic");
        await grain.Schedule("tick", dueMs: 200, periodMs: 300);

        await Cluster.EventuallyAsync(grain.Log, l => l.Fired.Count(f => f.Name == "tick") >= 3, Wait, "three ticks");
        await grain.Cancel("tick");
        var ticksAtCancel = (await grain.Log()).Fired.Count(f => f.Name == "tick");

        // While the marker waits 1.5 s, an uncancelled 300 ms reminder would have fired about five more times.
        await grain.Schedule("marker", dueMs: 1500, periodMs: null);
        var log = await Cluster.EventuallyAsync(grain.Log, l => l.Fired.Any(f => f.Name == "marker"), Wait, "the marker reminder");
        // At most one tick may already have been queued as a message when the cancel committed.
        Assert.InRange(log.Fired.Count(f => f.Name == "tick"), ticksAtCancel, ticksAtCancel + 1);
        var ticks = log.Fired.Where(f => f.Name == "tick").Select(f => f.At).ToList();
        Assert.All(ticks.Zip(ticks.Skip(1)), pair => Assert.True(pair.Second > pair.First));
    }

    [Fact]
    public async Task A_reminder_survives_a_silo_restart()
    {
        var first = await Cluster.StartSiloAsync(database.ConnectionString, "before");
        var grain = first.Client().GetGrain<IReminderGrain>("durable");
        await grain.Schedule("later", dueMs: 2500, periodMs: null);
        await first.StopAsync();
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.reminders WHERE grain_key = 'durable'"));

        await using var second = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, "after"));
        var log = await Cluster.EventuallyAsync(
            second.Host.Client().GetGrain<IReminderGrain>("durable").Log, l => l.Fired.Count >= 1, Wait, "the reminder after restart");
        // Not early, and without waiting for anything but the new silo's start.
        Assert.InRange((log.Fired.Single().At - log.Scheduled.Single().At).TotalMilliseconds, 0, 10_000);
    }
}
