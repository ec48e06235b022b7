using Npgsql;

namespace MediaActors.Orleans.Bench;

/// <summary>CPU seconds of one phase, by who used them (read from /proc; Linux only, zero elsewhere).</summary>
public sealed record CpuSplit(double Silos, double Client, double Postgres, double Other, double Cores);

/// <summary>
/// A point in time of the machine's CPU accounting: the whole machine's busy time, this process (the Orleans client),
/// the silo processes and every PostgreSQL process (the postmaster with its exited children, and its live children:
/// backends, WAL writer, checkpointer). Two marks give a <see cref="CpuSplit"/>.
/// </summary>
public sealed class CpuMark
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly long _machine;
    private readonly long _client;
    private readonly long _silos;
    private readonly long _postgres;

    private CpuMark(long machine, long client, long silos, long postgres)
    {
        _machine = machine;
        _client = client;
        _silos = silos;
        _postgres = postgres;
    }

    public static CpuMark Take(IEnumerable<int> siloPids, int postmasterPid)
    {
        var processes = ReadAllStats();
        long Own(int pid) => processes.TryGetValue(pid, out var p) ? p.Self : 0;
        var postgres = (processes.TryGetValue(postmasterPid, out var pm) ? pm.Self + pm.Children : 0)
                       + processes.Values.Where(p => p.Parent == postmasterPid).Sum(p => p.Self);
        return new CpuMark(MachineBusy(), Own(Environment.ProcessId), siloPids.Sum(Own), postgres);
    }

    public CpuSplit Since(CpuMark start)
    {
        var busy = _machine - start._machine;
        var client = _client - start._client;
        var silos = _silos - start._silos;
        var postgres = _postgres - start._postgres;
        return new CpuSplit(silos / TicksPerSecond, client / TicksPerSecond, postgres / TicksPerSecond,
            Math.Max(0, busy - client - silos - postgres) / TicksPerSecond, Environment.ProcessorCount);
    }

    private static long MachineBusy()
    {
        // "cpu  user nice system idle iowait irq softirq steal ...": busy = all but idle and iowait.
        var fields = File.Exists("/proc/stat") ? File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
        return fields.Length < 9 ? 0 : new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(fields[i]));
    }

    private static Dictionary<int, (int Parent, long Self, long Children)> ReadAllStats()
    {
        var stats = new Dictionary<int, (int, long, long)>();
        if (!Directory.Exists("/proc"))
        {
            return stats;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                // After "pid (comm) " come state, ppid, ... utime (14th field of the line), stime, cutime, cstime.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                stats[pid] = (int.Parse(fields[1]), long.Parse(fields[11]) + long.Parse(fields[12]), long.Parse(fields[13]) + long.Parse(fields[14]));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process ended meanwhile.
            }
        }

        return stats;
    }
}

/// <summary>PostgreSQL's counters of one phase: commits of the bench database, WAL written and flushed (the whole server).</summary>
public sealed record PgCounters(long Commits, long WalRecords, long WalBytes, long WalWrites, long WalSyncs)
{
    public static async Task<PgCounters> ReadAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
                   wal_records, wal_bytes::bigint, wal_write, wal_sync
            FROM pg_stat_wal
            """);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new PgCounters(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    public PgCounters Since(PgCounters start) =>
        new(Commits - start.Commits, WalRecords - start.WalRecords, WalBytes - start.WalBytes, WalWrites - start.WalWrites, WalSyncs - start.WalSyncs);

    /// <summary>The postmaster's pid, from postmaster.pid in the data directory (the bench runs on the database's machine).</summary>
    public static async Task<int> PostmasterPidAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SHOW data_directory");
        var directory = (string)(await command.ExecuteScalarAsync())!;
        var path = Path.Combine(directory, "postmaster.pid");
        return File.Exists(path) && int.TryParse(File.ReadLines(path).First(), out var pid) ? pid : 0;
    }
}
