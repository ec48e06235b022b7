using System.Diagnostics;

namespace MediaActors.Runtime.Bench;

/// <summary>
/// CPU time used during a measurement by this process (client and silos) and by the PostgreSQL backends
/// serving the scenario's database (read from /proc; Linux only, zero elsewhere). Backends that start
/// during the measurement count from zero; background processes (WAL writer, checkpointer) are not included.
/// </summary>
public sealed class CpuUsage
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly string _database;
    private readonly TimeSpan _processStart;
    private readonly Dictionary<int, long> _backendStart;

    private CpuUsage(string database)
    {
        _database = database;
        _processStart = Process.GetCurrentProcess().TotalProcessorTime;
        _backendStart = BackendTicks(database);
    }

    public static CpuUsage Start(string database) => new(database);

    /// <summary>Seconds of CPU since the start: (this process, the database's backends).</summary>
    public (double Process, double Postgres) Stop()
    {
        var process = (Process.GetCurrentProcess().TotalProcessorTime - _processStart).TotalSeconds;
        var ticks = BackendTicks(_database).Sum(b => b.Value - _backendStart.GetValueOrDefault(b.Key));
        return (process, ticks / TicksPerSecond);
    }

    private static Dictionary<int, long> BackendTicks(string database)
    {
        var ticks = new Dictionary<int, long>();
        if (!Directory.Exists("/proc"))
        {
            return ticks;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                // A backend's title (its cmdline) is "postgres: USER DATABASE HOST(PORT) STATE".
                var title = File.ReadAllText(Path.Combine(directory, "cmdline"));
                if (!title.StartsWith("postgres: ", StringComparison.Ordinal) || !title.Contains($" {database} ", StringComparison.Ordinal))
                {
                    continue;
                }

                // utime and stime are fields 14 and 15; the command name before them may contain spaces.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks[pid] = long.Parse(fields[11]) + long.Parse(fields[12]);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process ended meanwhile, or is not ours to read.
            }
        }

        return ticks;
    }
}
