using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService;
using Orleans.Storage;
using Xunit.Abstractions;

namespace MediaActors.Silo.Tests.OrleansSchema;

/// <summary>
/// Migrations/0100_orleans.sql proved through Orleans' own ADO.NET providers (clustering, persistence, reminders)
/// on a real PostgreSQL: every test gets a fresh database and its own ClusterId/ServiceId.
/// </summary>
public sealed class OrleansSchemaTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] ClusteringKeys =
    [
        "GatewaysQueryKey", "MembershipReadRowKey", "MembershipReadAllKey", "InsertMembershipVersionKey", "UpdateIAmAlivetimeKey",
        "InsertMembershipKey", "UpdateMembershipKey", "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey",
        "CleanupDefunctSiloEntryKey",
    ];

    private static readonly string[] PersistenceKeys = ["ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey"];

    private static readonly string[] ReminderKeys =
    [
        "ReadReminderRowsKey", "ReadRangeRows1Key", "ReadRangeRows2Key", "ReadReminderRowKey", "UpsertReminderRowKey",
        "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    private readonly string _clusterId = $"cluster-{Guid.NewGuid():N}";
    private readonly string _serviceId = $"service-{Guid.NewGuid():N}";
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private OrleansTestDatabase _db = null!;

    public async Task InitializeAsync() => _db = await OrleansTestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        output.WriteLine($"test took {_clock.Elapsed.TotalSeconds:0.0}s");
    }

    [Fact]
    public async Task Migration_applies_once_on_an_empty_database_even_with_concurrent_migrators_and_is_idempotent()
    {
        // Four hosts starting together on an empty database: the advisory lock lets one apply, the others find it done.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(_db.MigrateAsync)));

        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM schema_migrations WHERE version = '0100_orleans'"));
        Assert.Equal(
            ["orleans_membership", "orleans_membership_version", "orleans_reminders", "orleans_storage", "orleansquery"],
            await _db.StringsAsync("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'orleans%' ORDER BY 1"));
        Assert.Equal(
            ClusteringKeys.Concat(PersistenceKeys).Concat(ReminderKeys).Order(StringComparer.Ordinal),
            await _db.StringsAsync("SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey COLLATE \"C\""));

        var before = await SchemaSnapshotAsync();
        await _db.MigrateAsync();
        Assert.Equal(before, await SchemaSnapshotAsync());
    }

    [Fact]
    public async Task Membership_table_versions_rows_and_cleans_up_through_the_clustering_provider()
    {
        await _db.MigrateAsync();
        var table = await ClusteringTableAsync();
        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal((0, "0"), (empty.Version.Version, empty.Version.VersionEtag));

        // Insert: only with the current table etag (Orleans passes version.Next(), which keeps the etag it read).
        var now = DateTime.UtcNow;
        var one = SiloAddress.New(IPAddress.Loopback, 11111, 1);
        var two = SiloAddress.New(IPAddress.Loopback, 22222, 2);
        var entry = new MembershipEntry
        {
            SiloAddress = one, SiloName = "one", HostName = "host-one", Status = SiloStatus.Joining, ProxyPort = 30001,
            StartTime = now, IAmAliveTime = now,
        };
        Assert.True(await table.InsertRowAsync(entry, empty.Version.Next()));
        Assert.False(await table.InsertRowAsync(Entry(two, SiloStatus.Joining, now), empty.Version.Next()));
        var read = await table.ReadAllAsync();
        Assert.Equal((1, "1"), (read.Version.Version, read.Version.VersionEtag));
        Assert.Equal(1, (await (await ClusteringTableAsync()).ReadAllAsync()).Version.Version); // re-initialising keeps the version
        var (stored, rowEtag) = Assert.Single(read.Members);
        Assert.Equal("1", rowEtag); // row etags are the table etag
        Assert.Equal((one, "one", "host-one", SiloStatus.Joining, 30001), (stored.SiloAddress, stored.SiloName, stored.HostName, stored.Status, stored.ProxyPort));
        Assert.True((stored.StartTime - now).Duration() < TimeSpan.FromMilliseconds(1));
        Assert.Null(stored.SuspectTimes);
        // The same silo twice fails and leaves the version alone.
        Assert.False(await table.InsertRowAsync(entry, read.Version.Next()));
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version);

        // Update: status and votes, again only with the current etag.
        stored.Status = SiloStatus.Active;
        stored.SuspectTimes = [Tuple.Create(two, now.AddSeconds(-1))];
        Assert.True(await table.UpdateRowAsync(stored, rowEtag, read.Version.Next()));
        Assert.False(await table.UpdateRowAsync(stored, rowEtag, read.Version.Next()));
        var row = await table.ReadRowAsync(one);
        Assert.Equal(2, row.Version.Version);
        var updated = Assert.Single(row.Members).Item1;
        Assert.Equal(SiloStatus.Active, updated.Status);
        Assert.Equal(two, Assert.Single(updated.SuspectTimes!).Item1);
        // Reading or updating a silo that has no row: the version, no member; the update fails without a bump.
        var missing = await table.ReadRowAsync(two);
        Assert.Equal((2, 0), (missing.Version.Version, missing.Members.Count));
        Assert.False(await table.UpdateRowAsync(Entry(two, SiloStatus.Active, now), "2", missing.Version.Next()));
        Assert.Equal(2, (await table.ReadAllAsync()).Version.Version);

        // Heartbeats are not versioned.
        var later = now.AddSeconds(5);
        await table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = one, IAmAliveTime = later });
        row = await table.ReadRowAsync(one);
        Assert.Equal(2, row.Version.Version);
        Assert.True((row.Members.Single().Item1.IAmAliveTime - later).Duration() < TimeSpan.FromMilliseconds(1));

        // Gateways: active silos with a proxy port.
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM orleans_membership WHERE cluster_id = $1 AND status = 3 AND proxy_port > 0", _clusterId));

        // Cleanup of defunct silos: only Dead rows whose last activity is before the cutoff. Orleans 10.4 deletes entry by
        // entry (CleanupDefunctSiloEntryKey) when that key exists, else in bulk (CleanupDefunctSiloEntriesKey).
        Assert.True(await table.InsertRowAsync(Entry(two, SiloStatus.Active, now), row.Version.Next()));
        read = await table.ReadAllAsync();
        var first = read.Members.Single(m => m.Item1.SiloAddress.Equals(one)).Item1;
        first.Status = SiloStatus.Dead;
        Assert.True(await table.UpdateRowAsync(first, read.Version.VersionEtag, read.Version.Next()));
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Equal(2, (await table.ReadAllAsync()).Members.Count);
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(1));
        read = await table.ReadAllAsync();
        Assert.Equal(two, Assert.Single(read.Members).Item1.SiloAddress);

        var second = read.Members.Single().Item1;
        second.Status = SiloStatus.Dead;
        Assert.True(await table.UpdateRowAsync(second, read.Version.VersionEtag, read.Version.Next()));
        await _db.ExecuteAsync("DELETE FROM OrleansQuery WHERE QueryKey = 'CleanupDefunctSiloEntryKey'");
        var bulk = await ClusteringTableAsync();
        await bulk.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Single((await bulk.ReadAllAsync()).Members);
        await bulk.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(1));
        read = await bulk.ReadAllAsync();
        Assert.Empty(read.Members);
        Assert.Equal(5, read.Version.Version); // cleanup deletes without bumping the version

        // Deleting the cluster's entries removes its version row too; initialisation starts it again at 0.
        Assert.True(await table.InsertRowAsync(Entry(one, SiloStatus.Active, now), read.Version.Next()));
        await table.DeleteMembershipTableEntriesAsync(_clusterId);
        Assert.Equal(0L, await _db.ScalarAsync<long>(
            "SELECT (SELECT count(*) FROM orleans_membership WHERE cluster_id = $1) + (SELECT count(*) FROM orleans_membership_version WHERE cluster_id = $1)",
            _clusterId));
        Assert.Equal(0, (await (await ClusteringTableAsync()).ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task Two_silos_join_through_the_membership_table_and_a_client_finds_them_as_gateways()
    {
        await _db.MigrateAsync();
        var a = TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "silo-a");
        var b = TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "silo-b");
        IHost? siloA = null, siloB = null, client = null;
        try
        {
            siloA = await TestSilo.StartSiloAsync(a, Log("silo-a"));
            siloB = await TestSilo.StartSiloAsync(b, Log("silo-b"));

            var rows = await Eventually.Until(
                () => _db.MembershipAsync(_clusterId),
                r => r.Count == 2 && r.All(x => x.Status == MembershipRow.Active),
                "both silos Active in the membership table");
            Assert.Equal(["silo-a", "silo-b"], rows.Select(r => r.SiloName).Order(StringComparer.Ordinal));
            Assert.All(rows, r => Assert.Equal("127.0.0.1", r.Address));
            Assert.Equal(new[] { a.GatewayPort, b.GatewayPort }.Order(), rows.Select(r => r.ProxyPort).Order());
            // Each silo's insert (Joining) and update (Active) bumped the cluster's etag row.
            Assert.True(await _db.ScalarAsync<int>("SELECT version FROM orleans_membership_version WHERE cluster_id = $1", _clusterId) >= 4);

            client = await TestSilo.StartClientAsync(_db.ConnectionString, _clusterId, _serviceId, Log("client"));
            var gateways = await client.Services.GetRequiredService<IGatewayListProvider>().GetGateways();
            Assert.Equal(new[] { a.GatewayPort, b.GatewayPort }.Order(), gateways.Select(g => g.Port).Order());

            var silos = new[] { siloA, siloB }.Select(s => s.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString()).ToHashSet();
            var answeredBy = new HashSet<string>();
            var grains = client.Services.GetRequiredService<IClusterClient>();
            for (var i = 0; i < 20; i++)
            {
                answeredBy.Add(await grains.GetGrain<IWhereGrain>($"where-{i}").Where());
            }

            Assert.NotEmpty(answeredBy);
            Assert.Subset(silos, answeredBy);

            // A graceful stop marks the silo's own row Dead and leaves the other one Active.
            await TestSilo.StopAllAsync(siloB);
            siloB = null;
            rows = await Eventually.Until(
                () => _db.MembershipAsync(_clusterId),
                r => r.Single(x => x.SiloName == "silo-b").Status == MembershipRow.Dead,
                "the stopped silo's row to become Dead");
            Assert.Equal(MembershipRow.Active, rows.Single(x => x.SiloName == "silo-a").Status);
            Assert.Equal([a.GatewayPort], (await client.Services.GetRequiredService<IGatewayListProvider>().GetGateways()).Select(g => g.Port));
        }
        finally
        {
            await TestSilo.StopAllAsync(client, siloB, siloA);
        }
    }

    [Fact]
    public async Task A_killed_silo_is_declared_dead_by_the_survivor_and_its_entry_is_then_cleaned_up()
    {
        await _db.MigrateAsync();
        var survivorSettings = TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "survivor", fastFailureDetection: true);
        // The victim keeps default (slow) failure detection so that, on a starved machine, it cannot vote the survivor dead first.
        var victimSettings = TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "victim");
        IHost? survivor = null;
        try
        {
            survivor = await TestSilo.StartSiloAsync(survivorSettings, Log("survivor"));
            await using var victim = await SiloProcess.StartAsync(victimSettings, output);
            await Eventually.Until(
                () => _db.MembershipAsync(_clusterId),
                r => r.Count == 2 && r.All(x => x.Status == MembershipRow.Active),
                "survivor and victim Active");

            // SIGKILL: the victim cannot touch its row; only the survivor's vote can make it Dead.
            victim.Kill();
            var killedAt = Stopwatch.StartNew();
            var rows = await Eventually.Until(
                () => _db.MembershipAsync(_clusterId),
                r => r.Single(x => x.SiloName == "victim").Status == MembershipRow.Dead,
                "the killed silo's row to become Dead");
            output.WriteLine($"declared dead {killedAt.Elapsed.TotalSeconds:0.0}s after the kill");
            var dead = rows.Single(x => x.SiloName == "victim");
            Assert.Contains($"127.0.0.1:{survivorSettings.SiloPort}@", dead.SuspectTimes ?? "");
            Assert.Equal(MembershipRow.Active, rows.Single(x => x.SiloName == "survivor").Status);

            rows = await Eventually.Until(
                () => _db.MembershipAsync(_clusterId),
                r => r.All(x => x.SiloName != "victim"),
                "the dead silo's entry to be cleaned up");
            output.WriteLine($"cleaned up {killedAt.Elapsed.TotalSeconds:0.0}s after the kill");
            Assert.Equal(MembershipRow.Active, Assert.Single(rows).Status);
        }
        finally
        {
            await TestSilo.StopAllAsync(survivor);
        }
    }

    [Fact]
    public async Task Grain_state_survives_deactivation_and_a_cluster_restart_for_guid_and_string_keys()
    {
        await _db.MigrateAsync();
        var guidKey = Guid.NewGuid();
        var stringKey = $"counter/{Guid.NewGuid():N}";
        IHost? silo = null, client = null;
        try
        {
            silo = await TestSilo.StartSiloAsync(TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "first"), Log("first"));
            client = await TestSilo.StartClientAsync(_db.ConnectionString, _clusterId, _serviceId, Log("client"));
            var grains = client.Services.GetRequiredService<IClusterClient>();
            Assert.Equal(5, await grains.GetGrain<IGuidCounterGrain>(guidKey).Add(5, "one"));
            Assert.Equal(6, await grains.GetGrain<IGuidCounterGrain>(guidKey).Add(1, "two"));
            Assert.Equal(7, await grains.GetGrain<IStringCounterGrain>(stringKey).Add(7, "seven"));

            // A new activation reads what the previous one wrote.
            await grains.GetGrain<IGuidCounterGrain>(guidKey).Deactivate();
            await grains.GetGrain<IStringCounterGrain>(stringKey).Deactivate();
            Assert.Equal(6, (await grains.GetGrain<IGuidCounterGrain>(guidKey).Get()).Value);
            Assert.Equal(7, (await grains.GetGrain<IStringCounterGrain>(stringKey).Get()).Value);

            Assert.Equal(2, await _db.ScalarAsync<int>(
                "SELECT version FROM orleans_storage WHERE service_id = $1 AND grain_type = 'guid-counter' AND grain_id_extension IS NULL AND (grain_id_n0, grain_id_n1) <> (0, 0)",
                _serviceId));
            Assert.Equal(1, await _db.ScalarAsync<int>(
                "SELECT version FROM orleans_storage WHERE service_id = $1 AND grain_type = 'string-counter' AND grain_id_extension = $2 AND (grain_id_n0, grain_id_n1) = (0, 0)",
                _serviceId, stringKey));
        }
        finally
        {
            await TestSilo.StopAllAsync(client, silo);
        }

        // The whole cluster is gone; a new one (same service, new silo) finds the state in the database.
        try
        {
            silo = await TestSilo.StartSiloAsync(TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "second"), Log("second"));
            client = await TestSilo.StartClientAsync(_db.ConnectionString, _clusterId, _serviceId, Log("client"));
            var grains = client.Services.GetRequiredService<IClusterClient>();
            var guidState = await grains.GetGrain<IGuidCounterGrain>(guidKey).Get();
            Assert.Equal((6, "two"), (guidState.Value, guidState.Note));
            Assert.Equal(7, (await grains.GetGrain<IStringCounterGrain>(stringKey).Get()).Value);
            Assert.Equal(10, await grains.GetGrain<IStringCounterGrain>(stringKey).Add(3, "ten"));
        }
        finally
        {
            await TestSilo.StopAllAsync(client, silo);
        }
    }

    [Fact]
    public async Task Grain_storage_reads_writes_and_clears_with_etag_checks()
    {
        await _db.MigrateAsync();
        IHost? silo = null;
        try
        {
            silo = await TestSilo.StartSiloAsync(TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "storage"), Log("storage"));
            var storage = silo.Services.GetRequiredKeyedService<IGrainStorage>(TestSilo.StorageName);
            var factory = silo.Services.GetRequiredService<IGrainFactory>();
            await ExerciseStorage(storage, "guid-state", factory.GetGrain<IGuidCounterGrain>(Guid.NewGuid()).GetGrainId());
            await ExerciseStorage(storage, "string-state", factory.GetGrain<IStringCounterGrain>($"s/{Guid.NewGuid():N}").GetGrainId());
            await ExerciseStorage(storage, "long-state", GrainId.Create(GrainType.Create("long-key"), GrainIdKeyExtensions.CreateIntegerKey(42, "ext")));

            // DeleteStateOnClear uses DeleteStorageKey: the row goes, the etag resets, and the state can be written again.
            var deleting = silo.Services.GetRequiredKeyedService<IGrainStorage>(TestSilo.DeletingStorageName);
            var id = factory.GetGrain<IGuidCounterGrain>(Guid.NewGuid()).GetGrainId();
            var state = new GrainState<CounterState>(new CounterState { Value = 1 });
            await deleting.WriteStateAsync("deleted-state", id, state);
            var stale = await ReadAsync(deleting, "deleted-state", id);
            await deleting.ClearStateAsync("deleted-state", id, state);
            Assert.Null(state.ETag);
            Assert.False(state.RecordExists);
            Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM orleans_storage WHERE grain_type = 'deleted-state'"));
            await Assert.ThrowsAsync<InconsistentStateException>(() => deleting.ClearStateAsync("deleted-state", id, stale));
            var reread = await ReadAsync(deleting, "deleted-state", id);
            Assert.False(reread.RecordExists);
            Assert.Null(reread.ETag);
            reread.State!.Value = 2;
            await deleting.WriteStateAsync("deleted-state", id, reread);
            Assert.Equal("1", reread.ETag);
        }
        finally
        {
            await TestSilo.StopAllAsync(silo);
        }
    }

    [Fact]
    public async Task Reminder_table_upserts_reads_rows_and_ring_ranges_and_removes_through_the_provider()
    {
        await _db.MigrateAsync();
        IHost? silo = null;
        try
        {
            silo = await TestSilo.StartSiloAsync(TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "reminders"), Log("reminders"));
            var table = silo.Services.GetRequiredService<IReminderTable>();
            await table.StartAsync();

            // Far in the future, so the silo's own reminder service never tries to deliver these.
            var startAt = DateTime.UtcNow.AddDays(1);
            var ids = Enumerable.Range(0, 64).Select(i => GrainId.Create("reminder-probe", $"g{i}")).ToList();
            foreach (var id in ids)
            {
                Assert.Equal("0", await table.UpsertRow(new ReminderEntry { GrainId = id, ReminderName = "r", StartAt = startAt, Period = TimeSpan.FromHours(1) }));
            }

            // Ranges are (begin, end] on the uint ring; Orleans picks ReadRangeRows1Key or ReadRangeRows2Key by comparing the
            // bounds as signed ints, so these cover plain, sign-crossing, negative, wrapping, boundary and whole-ring ranges.
            var hashes = ids.Select(id => id.GetUniformHashCode()).Order().ToList();
            (uint Begin, uint End)[] ranges =
            [
                (0x1000_0000, 0x6000_0000), (0x6000_0000, 0xA000_0000), (0xA000_0000, 0xE000_0000), (0xE000_0000, 0x2000_0000),
                (0xFFFF_FFFF, 0x7FFF_FFFF), (0x7FFF_FFFF, 0xFFFF_FFFF), (0x2000_0000, 0x2000_0000), (0, 0),
                (hashes[3], hashes[40]), (hashes[50], hashes[10]), (hashes[0], hashes[^1]), (hashes[^1], hashes[0]),
            ];
            foreach (var (begin, end) in ranges)
            {
                var expected = ids.Where(id => InRange(id.GetUniformHashCode(), begin, end)).Select(id => id.ToString()).Order(StringComparer.Ordinal);
                var actual = (await table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId.ToString()).Order(StringComparer.Ordinal);
                Assert.True(expected.SequenceEqual(actual), $"range ({begin:X8}, {end:X8}]: expected {expected.Count()} rows, got {actual.Count()}");
            }

            Assert.Equal(ids.Count, (await table.ReadRows(0x2000_0000, 0x2000_0000)).Reminders.Count);

            // Per-grain reads, upsert etags (period beyond int milliseconds), stale and current removes.
            var grain = ids[0];
            var longPeriod = TimeSpan.FromDays(30);
            Assert.Equal("0", await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "r2", StartAt = startAt, Period = longPeriod }));
            Assert.Equal("1", await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "r", StartAt = startAt, Period = TimeSpan.FromMinutes(5) }));
            Assert.Equal(["r", "r2"], (await table.ReadRows(grain)).Reminders.Select(r => r.ReminderName).Order(StringComparer.Ordinal));
            var row = await table.ReadRow(grain, "r2");
            Assert.NotNull(row);
            Assert.Equal((grain, "0", longPeriod), (row.GrainId, row.ETag, row.Period));
            Assert.Equal(DateTimeKind.Utc, row.StartAt.Kind);
            Assert.True((row.StartAt - startAt).Duration() < TimeSpan.FromMilliseconds(1), $"{row.StartAt:O} vs {startAt:O}");
            Assert.Equal("1", (await table.ReadRow(grain, "r"))!.ETag);
            Assert.Null(await table.ReadRow(grain, "missing"));

            Assert.False(await table.RemoveRow(grain, "r", "0"));
            Assert.True(await table.RemoveRow(grain, "r", "1"));
            Assert.False(await table.RemoveRow(grain, "r", "1"));
            Assert.Null(await table.ReadRow(grain, "r"));
            Assert.Equal(["r2"], (await table.ReadRows(grain)).Reminders.Select(r => r.ReminderName));

            await table.TestOnlyClearTable();
            Assert.Empty((await table.ReadRows(0, 0)).Reminders);
        }
        finally
        {
            await TestSilo.StopAllAsync(silo);
        }
    }

    [Fact]
    public async Task A_reminder_registered_in_one_cluster_fires_in_the_next_and_unregisters()
    {
        await _db.MigrateAsync();
        await _db.ExecuteAsync(TickLog.CreateTableSql);
        const string key = "ticker";
        IHost? silo = null, client = null;
        try
        {
            silo = await TestSilo.StartSiloAsync(TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "first"), Log("first"));
            client = await TestSilo.StartClientAsync(_db.ConnectionString, _clusterId, _serviceId, Log("client"));
            await client.Services.GetRequiredService<IClusterClient>().GetGrain<ITickingGrain>(key).Start(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            Assert.Equal(1L, await _db.ScalarAsync<long>(
                "SELECT count(*) FROM orleans_reminders WHERE service_id = $1 AND reminder_name = $2", _serviceId, TickingGrain.ReminderName));
        }
        finally
        {
            await TestSilo.StopAllAsync(client, silo);
        }

        try
        {
            silo = await TestSilo.StartSiloAsync(TestSilo.Settings(_db.ConnectionString, _clusterId, _serviceId, "second"), Log("second"));
            client = await TestSilo.StartClientAsync(_db.ConnectionString, _clusterId, _serviceId, Log("client"));
            await Eventually.Until(
                () => _db.ScalarAsync<long>("SELECT count(*) FROM test_reminder_ticks WHERE grain = $1 AND label = 'second'", key),
                n => n > 0,
                "a reminder tick in the second cluster");

            await client.Services.GetRequiredService<IClusterClient>().GetGrain<ITickingGrain>(key).Stop();
            Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM orleans_reminders WHERE service_id = $1", _serviceId));
        }
        finally
        {
            await TestSilo.StopAllAsync(client, silo);
        }
    }

    private static MembershipEntry Entry(SiloAddress silo, SiloStatus status, DateTime time) => new()
    {
        SiloAddress = silo, SiloName = $"silo-{silo.Endpoint.Port}", HostName = "host", Status = status, ProxyPort = 0,
        StartTime = time, IAmAliveTime = time,
    };

    /// <summary>The silo-side clustering provider on this test's cluster, initialised (which creates the version row).</summary>
    private async Task<AdoNetClusteringTable> ClusteringTableAsync()
    {
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = _clusterId, ServiceId = _serviceId }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = TestSilo.Invariant, ConnectionString = _db.ConnectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        return table;
    }

    /// <summary>(begin, end] on the uint ring; begin == end is the whole ring.</summary>
    private static bool InRange(uint hash, uint begin, uint end) => begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private static async Task<GrainState<CounterState>> ReadAsync(IGrainStorage storage, string stateName, GrainId id)
    {
        var state = new GrainState<CounterState>(new CounterState());
        await storage.ReadStateAsync(stateName, id, state);
        return state;
    }

    private static async Task ExerciseStorage(IGrainStorage storage, string stateName, GrainId id)
    {
        var first = await ReadAsync(storage, stateName, id);
        Assert.False(first.RecordExists);
        Assert.Null(first.ETag);

        first.State!.Value = 1;
        await storage.WriteStateAsync(stateName, id, first);
        Assert.Equal(("1", true), (first.ETag, first.RecordExists));

        // Two copies of the same state: once one writes, the other's etag is stale.
        var stale = await ReadAsync(storage, stateName, id);
        Assert.Equal((1, "1", true), (stale.State!.Value, stale.ETag, stale.RecordExists));
        first.State.Value = 2;
        await storage.WriteStateAsync(stateName, id, first);
        Assert.Equal("2", first.ETag);
        stale.State.Value = 99;
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(stateName, id, stale));
        // A copy that never read the state (no etag) cannot overwrite it either, nor can a stale copy clear it.
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(stateName, id, new GrainState<CounterState>(new CounterState { Value = 5 })));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(stateName, id, stale));
        Assert.Equal(2, (await ReadAsync(storage, stateName, id)).State!.Value);

        // Clear keeps a row with no payload and a new etag: a read sees a fresh state.
        await storage.ClearStateAsync(stateName, id, first);
        Assert.Equal(("3", false, 0), (first.ETag, first.RecordExists, first.State.Value));
        var cleared = await ReadAsync(storage, stateName, id);
        Assert.Equal((false, "3", 0, (string?)null), (cleared.RecordExists, cleared.ETag, cleared.State!.Value, cleared.State.Note));

        // Writing after the clear works and is read back.
        cleared.State.Value = 7;
        await storage.WriteStateAsync(stateName, id, cleared);
        Assert.Equal("4", cleared.ETag);
        var again = await ReadAsync(storage, stateName, id);
        Assert.Equal((7, "4", true), (again.State!.Value, again.ETag, again.RecordExists));
    }

    /// <summary>Applied migrations, query texts and every relation (with its oid) in public: any re-creation would show.</summary>
    private async Task<string> SchemaSnapshotAsync()
    {
        var lines = new List<string>();
        lines.AddRange(await _db.StringsAsync("SELECT version || ' ' || applied_at::text FROM schema_migrations ORDER BY version"));
        lines.AddRange(await _db.StringsAsync("SELECT QueryKey || ' ' || md5(QueryText) FROM OrleansQuery ORDER BY QueryKey"));
        lines.AddRange(await _db.StringsAsync(
            """
            SELECT c.relname || ' ' || c.relkind::text || ' ' || c.oid::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' ORDER BY c.relname
            """));
        return string.Join("\n", lines);
    }

    private Action<ILoggingBuilder> Log(string source) => logging => logging.AddProvider(new TestOutputLoggerProvider(output, source));
}
