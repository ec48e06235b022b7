using System.Threading.Channels;
using MediaActors.Runtime.TestSilo;

namespace MediaActors.Runtime.Tests;

public sealed class EventTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_grains_events_arrive_in_order_and_a_late_subscriber_reads_what_it_missed()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        await using var client = new AsyncHost(await Cluster.StartClientAsync(database.ConnectionString));
        var received = Channel.CreateUnbounded<GrainEvent>();
        using var subscription = client.Host.Client().Events.Subscribe(e =>
        {
            if (e.GrainKey == "ordered")
            {
                received.Writer.TryWrite(e);
            }

            return ValueTask.CompletedTask;
        });

        var grain = client.Host.Client().GetGrain<IEventGrain>("ordered");
        await grain.Emit(30);
        await grain.Emit(20);
        await grain.Emit(50);

        var live = new List<GrainEvent>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (live.Count < 100)
        {
            live.Add(await received.Reader.ReadAsync(timeout.Token));
        }

        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), live.Select(e => e.Seq));
        Assert.Equal(Enumerable.Range(1, 100), live.Select(e => e.Payload.GetProperty("n").GetInt32()));
        Assert.All(live, e => Assert.Equal("tick", e.Kind));

        // A subscriber that saw up to 60 reads the rest by sequence number.
        var missed = await client.Host.Client().Events.ReadAsync(GrainId.For<IEventGrain>("ordered"), afterSeq: 60);
        Assert.Equal(Enumerable.Range(61, 40).Select(i => (long)i), missed.Select(e => e.Seq));
        Assert.Equal(live.Skip(60).Select(e => e.Id), missed.Select(e => e.Id));
    }

    [Fact]
    public async Task An_event_too_large_for_a_notification_is_still_delivered_whole()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        var received = new TaskCompletionSource<GrainEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = silo.Host.Client().Events.Subscribe(e =>
        {
            if (e.GrainType == "test-job" && e.GrainKey == "large")
            {
                received.TrySetResult(e);
            }

            return ValueTask.CompletedTask;
        });

        // An echo of 20,000 characters makes the work-completed event larger than NOTIFY's 8,000-byte limit.
        var input = new string('x', 20_000);
        await silo.Host.Client().GetGrain<IJobGrain>("large").Start("echo", input, 1);
        var grainEvent = await received.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(new string('X', 20_000), grainEvent.Payload.GetProperty("output").GetProperty("upper").GetString());
    }
}
