using MediaActors.Runtime.TestSilo;

namespace MediaActors.Runtime.Tests;

public sealed class WorkerTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_work_items_result_and_progress_reach_the_grain_that_started_it()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, "worker"));
        var job = silo.Host.Client().GetGrain<IJobGrain>("echo-ok");
        var itemId = await job.Start("echo", "hello", 3);

        var state = await Cluster.EventuallyAsync(job.Status, s => s.Results.Count > 0, Wait, "the work result");
        var result = state.Results.Single();
        Assert.Equal(itemId, result.ItemId);
        Assert.Equal(WorkStatus.Succeeded, result.Status);
        Assert.Equal("HELLO", result.OutputAs<EchoOutput>()!.Upper);
        Assert.Equal(1, result.Attempts);
        Assert.Equal("job", result.Tag);
        Assert.Equal("succeeded", await database.ScalarAsync<string>("SELECT status FROM runtime.work_items WHERE id = $1", itemId));
        Assert.Equal("succeeded", await database.ScalarAsync<string>("SELECT outcome FROM runtime.work_attempts WHERE item_id = $1 AND attempt = 1", itemId));
        await Cluster.EventuallyAsync(job.Status, s => s.Progress.Contains(1.0), Wait, "the final progress report");
    }

    [Fact]
    public async Task A_failing_work_item_reports_its_error()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        var job = silo.Host.Client().GetGrain<IJobGrain>("echo-fail");
        var itemId = await job.Start("echo", "fail", 3);

        var result = (await Cluster.EventuallyAsync(job.Status, s => s.Results.Count > 0, Wait, "the failure")).Results.Single();
        Assert.Equal(WorkStatus.Failed, result.Status);
        Assert.Equal("the input asked to fail", result.Error);
        Assert.Equal("the input asked to fail", await database.ScalarAsync<string>("SELECT last_error FROM runtime.work_items WHERE id = $1", itemId));
    }

    [Fact]
    public async Task A_running_work_item_can_be_cancelled_by_its_grain()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        var job = silo.Host.Client().GetGrain<IJobGrain>("echo-cancel");
        var itemId = await job.Start("echo", "hang", 3);
        await Cluster.EventuallyAsync(
            () => database.ScalarAsync<string>("SELECT status FROM runtime.work_items WHERE id = $1", itemId), s => s == "running", Wait, "the item to run");

        await job.CancelRunning();

        var result = (await Cluster.EventuallyAsync(job.Status, s => s.Results.Count > 0, Wait, "the cancellation")).Results.Single();
        Assert.Equal(WorkStatus.Cancelled, result.Status);
        Assert.Equal("cancelled", await database.ScalarAsync<string>("SELECT status FROM runtime.work_items WHERE id = $1", itemId));
    }

    [Fact]
    public async Task Graceful_shutdown_releases_a_running_item_to_another_silo()
    {
        var first = await Cluster.StartSiloAsync(database.ConnectionString, "leaving");
        var job = first.Client().GetGrain<IJobGrain>("echo-handover");
        var itemId = await job.Start("echo", "hang", 1);
        await Cluster.EventuallyAsync(
            () => database.ScalarAsync<string>("SELECT status FROM runtime.work_items WHERE id = $1", itemId), s => s == "running", Wait, "the item to run");

        await first.StopAsync();
        // Released, not failed: the attempt does not count, so a one-attempt item can still run.
        Assert.Equal("pending", await database.ScalarAsync<string>("SELECT status FROM runtime.work_items WHERE id = $1", itemId));
        Assert.Equal(0, await database.ScalarAsync<int>("SELECT attempts FROM runtime.work_items WHERE id = $1", itemId));
        Assert.Equal("stopped", await database.ScalarAsync<string>("SELECT status FROM runtime.silos WHERE name = 'leaving'"));

        await using var second = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, "arriving"));
        await Cluster.EventuallyAsync(
            () => database.ScalarAsync<string>("SELECT lease_owner FROM runtime.work_items WHERE id = $1 AND status = 'running'", itemId),
            o => o?.StartsWith("arriving#", StringComparison.Ordinal) == true, Wait, "the other silo to take the item");
    }

    [Fact]
    public async Task A_stopping_silo_keeps_renewing_the_lease_of_an_item_it_is_finishing()
    {
        // The lease (3 s) is far shorter than the shutdown grace (20 s), and the item ends about 10 s into the shutdown. The
        // stopping silo's own membership still sweeps expired leases meanwhile (a one-attempt item would fail).
        var leaving = await Cluster.StartSiloAsync(database.ConnectionString, "finishing", s =>
        {
            s["Runtime:WorkLease"] = "00:00:03";
            s["Runtime:ShutdownGrace"] = "00:00:20";
        });
        Guid itemId;
        try
        {
            itemId = await leaving.Client().GetGrain<IJobGrain>("echo-finish").Start("echo", "sleep:10000", 1);
            await Cluster.EventuallyAsync(
                () => database.ScalarAsync<string>("SELECT coalesce((SELECT lease_owner FROM runtime.work_items WHERE id = $1 AND status = 'running'), '')", itemId),
                o => o.StartsWith("finishing#", StringComparison.Ordinal), Wait, "the item to run");
        }
        finally
        {
            // Stopped in any case: left running, its worker would take the items of the next test in this database.
            await leaving.StopAsync();
        }

        Assert.Equal("succeeded", await database.ScalarAsync<string>("SELECT status FROM runtime.work_items WHERE id = $1", itemId));
        Assert.Equal(1, await database.ScalarAsync<int>("SELECT attempts FROM runtime.work_items WHERE id = $1", itemId));
        Assert.Equal("succeeded", await database.ScalarAsync<string>("SELECT outcome FROM runtime.work_attempts WHERE item_id = $1 AND attempt = 1", itemId));
        // The result reaches the grain (through another silo, the first one is gone).
        await using var reader = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, "reading"));
        var result = (await Cluster.EventuallyAsync(reader.Host.Client().GetGrain<IJobGrain>("echo-finish").Status, s => s.Results.Count > 0, Wait, "the result"))
            .Results.Single();
        Assert.Equal(WorkStatus.Succeeded, result.Status);
        Assert.Equal("finishing", result.OutputAs<EchoOutput>()!.Silo);
    }
}

public sealed class WorkConcurrencyTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_silo_runs_no_more_items_of_a_kind_than_its_configured_concurrency()
    {
        await using (var client = new AsyncHost(await Cluster.StartClientAsync(database.ConnectionString)))
        {
            // Queued before any silo runs: one batch starts both items, so the first claim sees both.
            await client.Host.Client().GetGrain<IJobGrain>("limited-1").Enqueue("echo", "hang");
            await client.Host.Client().GetGrain<IJobGrain>("limited-2").Enqueue("echo", "hang");
        }

        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString, "narrow", s => s["Runtime:WorkConcurrency:echo"] = "1"));
        await Cluster.EventuallyAsync(
            () => database.ScalarAsync<bool>("SELECT count(*) = 2 AND count(*) FILTER (WHERE status = 'running') >= 1 FROM runtime.work_items"),
            ready => ready, TimeSpan.FromSeconds(30), "both items queued and one running");
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.work_items WHERE status = 'running'"));
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM runtime.work_items WHERE status = 'pending'"));

        // When the running one ends, the other starts.
        var firstKey = await database.ScalarAsync<string>("SELECT owner_key FROM runtime.work_items WHERE status = 'running'");
        await silo.Host.Client().GetGrain<IJobGrain>(firstKey).CancelRunning();
        await Cluster.EventuallyAsync(
            () => database.ScalarAsync<string>("SELECT coalesce(string_agg(owner_key, ','), '') FROM runtime.work_items WHERE status = 'running'"),
            k => k.Length > 0 && k != firstKey, TimeSpan.FromSeconds(30), "the second item to run");
    }
}
