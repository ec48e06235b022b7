using MediaActors.Runtime.TestSilo;
using Microsoft.Extensions.DependencyInjection;

namespace MediaActors.Runtime.Tests;

public sealed class RuntimeStatusTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task The_dashboard_status_counts_silos_grains_work_reminders_and_failures()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, "watched"));
        var client = silo.Host.Client();
        await client.GetGrain<ICounterGrain>("status-1").Increment();
        await client.GetGrain<ICounterGrain>("status-2").Increment();
        var job = client.GetGrain<IJobGrain>("status-job");
        await job.Start("echo", "fail", 1);
        await Cluster.EventuallyAsync(job.Status, s => s.Results.Count > 0, TimeSpan.FromSeconds(30), "the failed item");
        await client.GetGrain<IReminderGrain>("status-reminder").Schedule("far", 3_600_000, null);

        var status = await silo.Host.Services.GetRequiredService<RuntimeStatus>().ReadAsync();

        Assert.Contains(status.Silos, s => s.Name == "watched" && s.Status == "active");
        Assert.Equal(2, status.GrainsByType.Single(g => g.Name == "test-counter").Count);
        Assert.Equal(1, status.WorkByKind.Single(w => w.Kind == "echo" && w.Status == "failed").Count);
        Assert.Equal(0, status.RemindersDue);
        Assert.Equal(1, status.RemindersTotal);
        var failure = status.RecentFailures.Single();
        Assert.Equal("work", failure.Source);
        Assert.Equal("the input asked to fail", failure.Error);
    }
}
