using System.Text;
using Npgsql;

namespace MediaActors.Api.Tests.Hardening;

/// <summary>
/// Every row of every table in the database's own schemas (tables are discovered, so tables added later are covered too),
/// as a multiset of row hashes per table, plus the identity sequences. Two snapshots compare equal when nothing but the
/// background bookkeeping below changed.
///
/// What legitimately changes while the system idles, whatever the requests say, and is therefore left out (exactly that,
/// nothing more):
/// <list type="bullet">
/// <item><c>public.api_keys.last_used_at</c>: a request that presents a key sets it (<c>ApiKeys.FindUserAsync</c>, at most
/// once per <c>Auth:KeyCacheSeconds</c> per host), malformed or not. The rest of the key row (hash, user, name, revocation) is compared.</item>
/// <item><c>public.orleans_membership.i_am_alive_time</c>: each silo writes it periodically (Orleans' IAmAlive). The rest of
/// the silo's row (address, generation, status, death votes, start time) is compared: a silo that joins, leaves or is
/// suspected during the run shows.</item>
/// <item><c>public.orleans_membership_version.version</c> and <c>.updated_at</c>: the membership table's etag, which Orleans
/// bumps whenever it rewrites a silo row. What such a rewrite changes is in the silo rows, which are compared.</item>
/// </list>
/// Everything else is compared in full, in particular the user data (uploads, projects and their results, the event log
/// <c>project_events</c>) and the grains' persistence: <c>orleans_storage</c> (a project grain's state changes only when the
/// project does) and <c>orleans_reminders</c> (a project registers its watchdog reminder only while it is in flight, and the
/// snapshot is taken when no project is). The Data Protection key ring (<c>data_protection_keys</c>) is written when a host
/// starts without a usable key and when a key nears its expiry (90 days), so it is static during a run; the Orleans query
/// table (<c>orleansquery</c>) is written by migrations only. No table is purged in the background during a run (event
/// retention deletes events older than <c>Events:Retention</c>, 30 days; dead silos' rows go after an hour), so no table is
/// allowed to lose rows either. The identity sequences, if any, are compared as well: they advance when a row is inserted
/// even if it is gone again by the time of the second snapshot.
/// </summary>
public sealed class DatabaseSnapshot
{
    /// <summary>Columns written in the background (see the class comment), as schema.table.column.</summary>
    public static readonly IReadOnlySet<string> VolatileColumns = new HashSet<string>(StringComparer.Ordinal)
    {
        "public.api_keys.last_used_at",
        "public.orleans_membership.i_am_alive_time",
        "public.orleans_membership_version.version",
        "public.orleans_membership_version.updated_at",
    };

    /// <summary>Tables whose rows are purged in the background: they may lose rows, never gain or change one (none at present).</summary>
    public static readonly IReadOnlySet<string> PurgedTables = new HashSet<string>(StringComparer.Ordinal);

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
            WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg\_%' AND t.table_type = 'BASE TABLE'
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
            "SELECT schemaname || '.' || sequencename || ' = ' || coalesce(last_value::text, 'unused') FROM pg_sequences WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname NOT LIKE 'pg\\_%'",
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
