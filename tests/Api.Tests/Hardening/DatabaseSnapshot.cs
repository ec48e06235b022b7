using System.Text;
using Npgsql;

namespace MediaActors.Api.Tests.Hardening;

/// <summary>
/// Every row of every table in the schemas <c>public</c> and <c>runtime</c> (tables are discovered, so tables added later
/// are covered too), as a multiset of row hashes per table, plus the identity sequences. Two snapshots compare equal when
/// nothing but the background bookkeeping below changed.
///
/// What legitimately changes while the system runs, whatever the requests say, and is therefore left out (exactly that,
/// nothing more):
/// <list type="bullet">
/// <item><c>public.api_keys.last_used_at</c>: every request that presents a key sets it (<c>ApiKeys.FindUserAsync</c>),
/// malformed or not. The rest of the key row (hash, user, name, revocation) is compared.</item>
/// <item><c>runtime.silos.heartbeat_at</c>: the membership service of each silo writes it every <c>Runtime:HeartbeatInterval</c>.
/// Its status, id, pid and start time are compared.</item>
/// <item><c>runtime.replies</c>: the membership sweep deletes replies older than <c>Runtime:ReplyRetention</c> (2 minutes), so the
/// reply of the set-up's create call may disappear during the run. The table may only lose rows: a row that appears means the
/// API made a request/response call to a grain, which no malformed request should cause.</item>
/// </list>
/// Everything else is compared in full. The Data Protection key ring (<c>data_protection_keys</c>) is written when a host
/// starts without a usable key and when a key nears its expiry (90 days), so it is static during a run. Also compared in
/// full: the work-item lease columns (<c>lease_owner</c>, <c>lease_expires_at</c>) and the mailbox: those move only while work is running or messages are pending, and the snapshot is taken when neither is the
/// case. The identity sequences (<c>runtime.messages.id</c>, <c>runtime.events.id</c>) are compared as well: they advance when a
/// row is inserted even if it is gone again by the time of the second snapshot (a grain message that was processed and
/// deleted), so a grain call made and finished during the run still shows.
/// </summary>
public sealed class DatabaseSnapshot
{
    /// <summary>Columns written in the background (see the class comment), as schema.table.column.</summary>
    public static readonly IReadOnlySet<string> VolatileColumns = new HashSet<string>(StringComparer.Ordinal)
    {
        "public.api_keys.last_used_at",
        "runtime.silos.heartbeat_at",
    };

    /// <summary>Tables whose rows are purged in the background: they may lose rows, never gain or change one.</summary>
    public static readonly IReadOnlySet<string> PurgedTables = new HashSet<string>(StringComparer.Ordinal) { "runtime.replies" };

    private const string SequencesTable = "(sequences)";

    private DatabaseSnapshot(Dictionary<string, Dictionary<string, Row>> tables) => Tables = tables;

    /// <summary>Per table ("schema.name"): row hash -> how many such rows, and one of them as text.</summary>
    public IReadOnlyDictionary<string, Dictionary<string, Row>> Tables { get; }

    public int RowCount => Tables.Where(t => t.Key != SequencesTable).Sum(t => t.Value.Values.Sum(r => r.Count));

    public static async Task<DatabaseSnapshot> TakeAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // One repeatable-read transaction: all tables as of the same moment.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        var columns = new List<(string Table, string Column)>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT c.table_schema || '.' || c.table_name, c.column_name
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema IN ('public', 'runtime') AND t.table_type = 'BASE TABLE'
            ORDER BY 1, c.ordinal_position
            """, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var tables = new Dictionary<string, Dictionary<string, Row>>(StringComparer.Ordinal);
        foreach (var table in columns.GroupBy(c => c.Table))
        {
            var kept = table.Where(c => !VolatileColumns.Contains($"{c.Table}.{c.Column}")).Select(c => Quote(c.Column)).ToList();
            var name = string.Join('.', table.Key.Split('.').Select(Quote));
            var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
            await using (var command = new NpgsqlCommand(
                $"SELECT md5(t::text), left(t::text, 600) FROM (SELECT {string.Join(", ", kept)} FROM {name}) AS t", connection, transaction))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    Add(rows, reader.GetString(0), reader.GetString(1));
                }
            }

            tables[table.Key] = rows;
        }

        var sequences = new Dictionary<string, Row>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(
            "SELECT schemaname || '.' || sequencename || ' = ' || coalesce(last_value::text, 'unused') FROM pg_sequences WHERE schemaname IN ('public', 'runtime')",
            connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                Add(sequences, reader.GetString(0), reader.GetString(0));
            }
        }

        tables[SequencesTable] = sequences;
        await transaction.CommitAsync();
        return new DatabaseSnapshot(tables);
    }

    /// <summary>What differs from <paramref name="before"/>, table by table with the rows added and removed; empty when nothing does.</summary>
    public string DifferencesFrom(DatabaseSnapshot before)
    {
        var text = new StringBuilder();
        foreach (var table in before.Tables.Keys.Union(Tables.Keys).Order(StringComparer.Ordinal))
        {
            if (!before.Tables.TryGetValue(table, out var old))
            {
                text.Append($"table {table} appeared with {Tables[table].Values.Sum(r => r.Count)} rows\n");
                continue;
            }

            if (!Tables.TryGetValue(table, out var now))
            {
                text.Append($"table {table} disappeared\n");
                continue;
            }

            var removed = Minus(old, now);
            var added = Minus(now, old);
            if (PurgedTables.Contains(table))
            {
                removed.Clear();
            }

            if (removed.Count == 0 && added.Count == 0)
            {
                continue;
            }

            text.Append($"table {table}: {added.Sum(r => r.Count)} rows added or changed, {removed.Sum(r => r.Count)} removed or changed\n");
            foreach (var row in added.Take(10))
            {
                text.Append("  + ").Append(row.Sample).Append('\n');
            }

            foreach (var row in removed.Take(10))
            {
                text.Append("  - ").Append(row.Sample).Append('\n');
            }
        }

        return text.ToString();
    }

    private static List<Row> Minus(Dictionary<string, Row> a, Dictionary<string, Row> b) =>
        a.Select(pair => pair.Value with { Count = pair.Value.Count - (b.TryGetValue(pair.Key, out var other) ? other.Count : 0) })
            .Where(row => row.Count > 0)
            .ToList();

    private static void Add(Dictionary<string, Row> rows, string hash, string sample) =>
        rows[hash] = rows.TryGetValue(hash, out var row) ? row with { Count = row.Count + 1 } : new Row(1, sample);

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public sealed record Row(int Count, string Sample);
}
