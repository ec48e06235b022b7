using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MediaActors.Runtime.TestSilo;

namespace MediaActors.Runtime.Tests;

public sealed class MetricsTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Turns_and_work_items_are_measured()
    {
        var totals = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RuntimeMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => totals.AddOrUpdate(instrument.Name, value, (_, v) => v + value));
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) => totals.AddOrUpdate(instrument.Name + ".count", 1, (_, v) => v + 1));
        listener.Start();

        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        var counter = silo.Host.Client().GetGrain<ICounterGrain>("measured");
        for (var i = 0; i < 10; i++)
        {
            await counter.Increment();
        }

        var job = silo.Host.Client().GetGrain<IJobGrain>("measured-job");
        await job.Start("echo", "fail", 1);
        await Cluster.EventuallyAsync(job.Status, s => s.Results.Count > 0, TimeSpan.FromSeconds(30), "the work result");

        Assert.True(totals.GetValueOrDefault("mediaactors.runtime.messages") >= 11);
        Assert.True(totals.GetValueOrDefault("mediaactors.runtime.turn.duration.count") >= 11);
        Assert.True(totals.GetValueOrDefault("mediaactors.runtime.batch.duration.count") >= 1);
        Assert.True(totals.GetValueOrDefault("mediaactors.runtime.work.completed") >= 1);
        Assert.True(totals.GetValueOrDefault("mediaactors.runtime.work.duration.count") >= 1);
    }
}
