using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using MediaActors.Api.Tests.EndToEnd;
using Microsoft.AspNetCore.SignalR.Client;
using Xunit.Abstractions;

namespace MediaActors.Api.Tests.Chaos;

/// <summary>
/// Proof under fire, short version (bench/chaos runs the long one): projects on 2 silos and 2 API hosts while a random silo
/// is killed with SIGKILL every few seconds and started again. Every project completes, none is lost, no result row is
/// written twice, and a .NET SignalR client connected throughout sees every project's events in order with no gap.
/// </summary>
public sealed class ChaosTests(ITestOutputHelper output) : IAsyncLifetime
{
    // bench/chaos/run.sh runs this test longer: MA_CHAOS_PROJECTS (100 there), MA_CHAOS_KILL_SECONDS (15), MA_CHAOS_KILLS (max).
    private static readonly int Projects = Setting("MA_CHAOS_PROJECTS", 8);
    private static readonly TimeSpan KillEvery = TimeSpan.FromSeconds(Setting("MA_CHAOS_KILL_SECONDS", 8));
    // MA_CHAOS_KILLS=0 runs the same projects without kills, for comparison.
    private static readonly int MaxKills = Environment.GetEnvironmentVariable("MA_CHAOS_KILLS") == "0" ? 0 : Setting("MA_CHAOS_KILLS", 6);
    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        _cluster = await PipelineCluster.StartAsync(silos: 2, settings =>
        {
            // Quick failover: a dead silo is declared dead in ~2 s, its steps run again after 4 s without heartbeats.
            settings["Projects:StepLease"] = "00:00:04";
            settings["Projects:WatchdogPeriod"] = "00:00:01";
            settings["Projects:MaxStepAttempts"] = "20";
            settings["Limits:MaxProjectsInFlight"] = "100000";
            settings["Orleans:ProbeTimeout"] = "00:00:01";
            settings["Orleans:NumMissedProbesLimit"] = "2";
            settings["Orleans:IAmAlivePeriod"] = "00:00:02";
        });
        _media = Directory.CreateTempSubdirectory("ma-chaos-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task Projects_survive_silos_killed_at_random_and_a_client_sees_every_event_in_order()
    {
        await TestMedia.SpokenVideoAsync(_media, "talk.mp4");
        await using var server = await LocalMediaServer.StartAsync(_media);
        var secondApi = await _cluster.StartApiAsync();

        // A .NET SignalR client on the second API host, connected before anything starts, for all of the user's projects.
        var received = new ConcurrentDictionary<string, ConcurrentQueue<long>>();
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(secondApi, "/hubs/projects"), o => o.Headers["X-Api-Key"] = _cluster.ApiKey)
            .Build();
        hub.On<JsonElement>("projectEvent", e =>
            received.GetOrAdd(e.GetProperty("projectId").GetString()!, _ => new()).Enqueue(e.GetProperty("seq").GetInt64()));
        await hub.StartAsync();

        var ids = new List<string>();
        for (var i = 0; i < Projects; i++)
        {
            ids.Add((await _cluster.CreateProjectAsync(new { title = $"Chaos {i}", url = server.Url("talk.mp4") })).GetProperty("id").GetString()!);
        }

        // Kill a random live silo every few seconds and start a new one, until every project is final.
        var random = new Random(8);
        var kills = 0;
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromMinutes(6 + Projects / 4);
        var killed = new List<(DateTime At, string Silo, Dictionary<string, long> InFlight)>();
        while (!await AllFinalAsync(ids))
        {
            Assert.True(clock.Elapsed < deadline, $"Not every project finished within {deadline}: {await StatusesAsync(ids)}");
            await Task.Delay(KillEvery);
            var live = _cluster.Silos.Where(s => !s.HasExited).ToList();
            if (kills < MaxKills && live.Count > 0 && !await AllFinalAsync(ids))
            {
                var victim = live[random.Next(live.Count)];
                var inFlight = await InFlightAsync(ids);
                victim.Kill();
                killed.Add((DateTime.UtcNow, victim.Name, inFlight));
                kills++;
                output.WriteLine($"{clock.Elapsed:mm\\:ss} killed {victim.Name}; {await StatusesAsync(ids)}");
                _cluster.StartSilo();
            }
        }

        output.WriteLine($"{clock.Elapsed:mm\\:ss} all final after {kills} kills");
        var restarts = new List<double>();
        for (var k = 0; k < killed.Count; k++)
        {
            var (at, silo, inFlight) = killed[k];
            // What happened after the next kill belongs to that kill: a project still waiting for a step slot on the
            // surviving silo when that one is killed loses its step then, not now.
            var window = k + 1 < killed.Count ? (killed[k + 1].At - at).TotalSeconds : double.MaxValue;
            var waited = 0;
            // Resumed: every project that was in flight at the kill has written a new event since. Of those, the killed
            // silo's own projects (their grain and step ran there) show it: their first event after the kill is the watchdog's
            // retry of the silent step ("detected"), then the new attempt begins ("restarted"); the others only waited.
            var resumed = new List<double>();
            var lost = new List<(double Detected, double Restarted, string Backoff)>();
            foreach (var (id, seq) in inFlight)
            {
                var next = await _cluster.Database.ScalarAsync<string>(
                    """
                    SELECT coalesce(string_agg(kind || '|' || coalesce(payload->>'error', '') || '|' || coalesce(payload->>'retryInSeconds', '')
                                               || '|' || extract(epoch FROM created_at - $2)::text, E'\n' ORDER BY seq), '')
                    FROM (SELECT * FROM project_events WHERE project_id = $1 AND seq > $3 ORDER BY seq LIMIT 2) e
                    """, Guid.Parse(id), at, seq);
                var events = next.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('|')).ToList();
                if (events.Count == 0)
                {
                    continue;
                }

                if (Seconds(events[0][3]) >= window)
                {
                    waited++;
                    continue;
                }

                resumed.Add(Seconds(events[0][3]));
                if (events[0][0] == "retry_scheduled" && events[0][1].Contains("stopped answering", StringComparison.Ordinal) && events.Count > 1)
                {
                    lost.Add((Seconds(events[0][3]), Seconds(events[1][3]), events[0][2]));
                }
            }

            restarts.AddRange(lost.Select(l => l.Restarted));
            output.WriteLine(FormattableString.Invariant(
                $"RESUME silo={silo} in_flight={inFlight.Count} quiet_until_next_kill={waited} seconds_to_all_resumed={(resumed.Count == 0 ? 0 : resumed.Max()):0.0} lost={lost.Count} detected_max={(lost.Count == 0 ? 0 : lost.Max(l => l.Detected)):0.0} restarted_max={(lost.Count == 0 ? 0 : lost.Max(l => l.Restarted)):0.0} backoffs_s={string.Join(',', lost.Select(l => l.Backoff))}"));
        }

        if (restarts.Count > 0)
        {
            restarts.Sort();
            output.WriteLine(FormattableString.Invariant(
                $"LOST_STEPS count={restarts.Count} restarted_s_min={restarts[0]:0.0} median={restarts[restarts.Count / 2]:0.0} p90={restarts[(int)(restarts.Count * 0.9)]:0.0} max={restarts[^1]:0.0}"));
        }

        Assert.True(kills >= Math.Min(2, MaxKills), "The chaos run ended before it killed two silos: make the projects longer.");
        foreach (var id in ids)
        {
            Assert.Equal("completed", (await _cluster.GetProjectAsync(id)).GetProperty("status").GetString());
            foreach (var table in new[] { "transcripts", "analyses", "contents" })
            {
                Assert.Equal(1L, await _cluster.Database.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE project_id = '{id}'"));
            }

            // The event log: 1..N without gap, the last one 'completed', and the read model's sequence is its end.
            var seqs = await _cluster.Database.ScalarAsync<long[]>($"SELECT array_agg(seq ORDER BY seq) FROM project_events WHERE project_id = '{id}'");
            Assert.Equal(Enumerable.Range(1, seqs.Length).Select(n => (long)n), seqs);
            Assert.Equal("completed", await _cluster.Database.ScalarAsync<string>($"SELECT kind FROM project_events WHERE project_id = '{id}' ORDER BY seq DESC LIMIT 1"));
            Assert.Equal((long)seqs.Length, await _cluster.Database.ScalarAsync<long>($"SELECT event_seq FROM projects WHERE id = '{id}'"));

            // The live client got every event once, in order (a repeat may arrive only right after its first delivery).
            var live = await WaitForAsync(() => received.TryGetValue(id, out var q) && q.Contains(seqs.Length) ? q.ToArray() : null);
            Assert.Equal(seqs, live.Distinct());
            Assert.True(live.Zip(live.Skip(1)).All(p => p.Second >= p.First), $"Events of {id} arrived out of order: {string.Join(',', live)}");
        }
    }

    private async Task<bool> AllFinalAsync(IEnumerable<string> ids) =>
        await ReadAsync(() => _cluster.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM projects WHERE id IN ({string.Join(',', ids.Select(i => $"'{i}'"))}) AND status NOT IN ('completed', 'failed', 'cancelled')")) == 0;

    /// <summary>A read of the test's own that rides out a PostgreSQL restart (bench/chaos restarts it once).</summary>
    private static async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (Npgsql.NpgsqlException) when (attempt < 30)
            {
                Npgsql.NpgsqlConnection.ClearAllPools();
                await Task.Delay(1000);
            }
        }
    }

    private async Task<Dictionary<string, long>> InFlightAsync(IEnumerable<string> ids)
    {
        var rows = await ReadAsync(() => _cluster.Database.ScalarAsync<string>(
            $"SELECT coalesce(string_agg(id || ':' || event_seq, ','), '') FROM projects WHERE id IN ({string.Join(',', ids.Select(i => $"'{i}'"))}) AND status = 'processing'"));
        return rows.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split(':')).ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static double Seconds(string text) => double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) && value > 0 ? value : fallback;

    private async Task<string> StatusesAsync(IEnumerable<string> ids) =>
        await ReadAsync(() => _cluster.Database.ScalarAsync<string>(
            $"SELECT coalesce(string_agg(status || coalesce('/' || step, ''), ' '), '') FROM projects WHERE id IN ({string.Join(',', ids.Select(i => $"'{i}'"))})"));

    private static async Task<long[]> WaitForAsync(Func<long[]?> read)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (read() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, "The SignalR client did not receive the project's last event within 30 s.");
            await Task.Delay(100);
        }
    }
}
