using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace MediaActors.Runtime;

internal sealed record StateWrite(GrainId Grain, string State, long ExpectedVersion, long EventSeq);

internal sealed record Reply(Guid RequestId, string? Result, string? Error);

internal sealed record EventRecord(GrainId Grain, long Seq, string Kind, string Payload);

/// <summary>Everything a batch of turns will commit.</summary>
internal sealed class BatchOutput
{
    public List<StateWrite> States { get; } = [];

    public List<long> Acknowledged { get; } = [];

    public List<(long Id, int Attempts, long DelayMs, string Error)> Retries { get; } = [];

    public List<(long Id, string Error)> DeadLetters { get; } = [];

    public List<Reply> Replies { get; } = [];

    public List<(GrainId Target, string Method, string Args)> Messages { get; } = [];

    public List<WorkItemRecord> Work { get; } = [];

    public List<(GrainId Owner, Guid ItemId)> Cancels { get; } = [];

    public Dictionary<(GrainId Grain, string Name), (DateTimeOffset DueAt, TimeSpan? Period)?> Reminders { get; } = [];

    public List<EventRecord> Events { get; } = [];

    public List<(string Sql, object?[] Parameters)> Commands { get; } = [];

    /// <summary>Adds a successful turn's outbox; returns the grain's event sequence after it.</summary>
    public long Merge(GrainId grain, TurnOutbox outbox, long eventSeq)
    {
        Messages.AddRange(outbox.Messages);
        Work.AddRange(outbox.Work);
        Cancels.AddRange(outbox.Cancels.Select(id => (grain, id)));
        foreach (var (name, reminder) in outbox.Reminders)
        {
            Reminders[(grain, name)] = reminder;
        }

        foreach (var (kind, payload) in outbox.Events)
        {
            Events.Add(new EventRecord(grain, ++eventSeq, kind, payload));
        }

        Commands.AddRange(outbox.Commands);
        return eventSeq;
    }
}

/// <summary>Writes a batch's output in one round trip, inside the batch's transaction.</summary>
internal static class BatchWriter
{
    private const int MaxInlineNotification = 7000;

    public static async Task WriteAsync(NpgsqlConnection connection, BatchOutput output, string siloId)
    {
        await using var batch = new NpgsqlBatch(connection);
        NpgsqlBatchCommand? stateCommand = null;
        if (output.States.Count > 0)
        {
            stateCommand = Add(batch,
                """
                WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::bigint[], $5::bigint[]) AS u(t, k, s, v, seq)),
                updated AS (
                    UPDATE runtime.grains g SET state = i.s, version = g.version + 1, event_seq = i.seq, updated_at = now()
                    FROM input i WHERE g.grain_type = i.t AND g.grain_key = i.k AND i.v > 0 AND g.version = i.v
                    RETURNING 1),
                inserted AS (
                    INSERT INTO runtime.grains (grain_type, grain_key, state, version, event_seq)
                    SELECT t, k, s, 1, seq FROM input WHERE v = 0
                    ON CONFLICT DO NOTHING
                    RETURNING 1)
                SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted)
                """,
                Text(output.States.Select(s => s.Grain.Type)), Text(output.States.Select(s => s.Grain.Key)),
                Jsonb(output.States.Select(s => s.State)), Int64(output.States.Select(s => s.ExpectedVersion)),
                Int64(output.States.Select(s => s.EventSeq)));
        }

        if (output.Acknowledged.Count > 0)
        {
            Add(batch, "DELETE FROM runtime.messages WHERE id = ANY($1)", Int64(output.Acknowledged));
        }

        if (output.Retries.Count > 0)
        {
            Add(batch,
                """
                UPDATE runtime.messages m SET attempts = u.a, due_at = now() + u.d * interval '1 millisecond', last_error = u.e
                FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[]) AS u(id, a, d, e) WHERE m.id = u.id
                """,
                Int64(output.Retries.Select(r => r.Id)), Int32(output.Retries.Select(r => r.Attempts)),
                Int64(output.Retries.Select(r => r.DelayMs)), Text(output.Retries.Select(r => r.Error)));
        }

        if (output.DeadLetters.Count > 0)
        {
            Add(batch,
                """
                WITH moved AS (DELETE FROM runtime.messages WHERE id = ANY($1) RETURNING *)
                INSERT INTO runtime.dead_messages (id, grain_type, grain_key, method, args, attempts, last_error, created_at)
                SELECT m.id, m.grain_type, m.grain_key, m.method, m.args, m.attempts + 1, u.e, m.created_at
                FROM moved m JOIN unnest($1::bigint[], $2::text[]) AS u(id, e) ON u.id = m.id
                """,
                Int64(output.DeadLetters.Select(d => d.Id)), Text(output.DeadLetters.Select(d => d.Error)));
        }

        if (output.Replies.Count > 0)
        {
            Add(batch,
                """
                INSERT INTO runtime.replies (request_id, result, error)
                SELECT * FROM unnest($1::uuid[], $2::jsonb[], $3::text[]) ON CONFLICT DO NOTHING
                """,
                Uuid(output.Replies.Select(r => r.RequestId)), Jsonb(output.Replies.Select(r => r.Result)), Text(output.Replies.Select(r => r.Error)));
            Add(batch, "SELECT pg_notify('ma_reply', p) FROM unnest($1::text[]) AS p", Text(output.Replies.Select(ReplyNotification)));
        }

        if (output.Messages.Count > 0)
        {
            Add(batch,
                """
                INSERT INTO runtime.messages (grain_type, grain_key, method, args, sender)
                SELECT t, k, m, a, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS u(t, k, m, a)
                """,
                Text(output.Messages.Select(m => m.Target.Type)), Text(output.Messages.Select(m => m.Target.Key)),
                Text(output.Messages.Select(m => m.Method)), Jsonb(output.Messages.Select(m => m.Args)),
                new NpgsqlParameter<string> { TypedValue = siloId });
            Add(batch, "SELECT pg_notify('ma_mailbox', '')");
        }

        if (output.Work.Count > 0)
        {
            Add(batch,
                """
                INSERT INTO runtime.work_items (id, kind, payload, owner_type, owner_key, tag, max_attempts, due_at)
                SELECT i, k, p, ot, ok, t, m, now() + d * interval '1 millisecond'
                FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[]) AS u(i, k, p, ot, ok, t, m, d)
                ON CONFLICT (id) DO NOTHING
                """,
                Uuid(output.Work.Select(w => w.Id)), Text(output.Work.Select(w => w.Kind)), Jsonb(output.Work.Select(w => w.Payload)),
                Text(output.Work.Select(w => w.Owner.Type)), Text(output.Work.Select(w => w.Owner.Key)), Text(output.Work.Select(w => w.Tag)),
                Int32(output.Work.Select(w => w.MaxAttempts)), Int64(output.Work.Select(w => (long)w.Delay.TotalMilliseconds)));
            Add(batch, "SELECT pg_notify('ma_work', k) FROM (SELECT DISTINCT unnest($1::text[]) AS k) AS kinds", Text(output.Work.Select(w => w.Kind)));
        }

        if (output.Cancels.Count > 0)
        {
            // Pending items are cancelled here; running ones are told through their heartbeat and ma_work_cancel.
            Add(batch,
                """
                WITH c AS (
                    UPDATE runtime.work_items w
                    SET cancel_requested = true,
                        status = CASE WHEN w.status = 'pending' THEN 'cancelled' ELSE w.status END,
                        finished_at = CASE WHEN w.status = 'pending' THEN now() ELSE w.finished_at END
                    FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(i, ot, ok)
                    WHERE w.id = u.i AND w.owner_type = u.ot AND w.owner_key = u.ok AND w.status IN ('pending', 'running')
                    RETURNING w.id)
                SELECT pg_notify('ma_work_cancel', id::text) FROM c
                """,
                Uuid(output.Cancels.Select(c => c.ItemId)), Text(output.Cancels.Select(c => c.Owner.Type)), Text(output.Cancels.Select(c => c.Owner.Key)));
        }

        var sets = output.Reminders.Where(r => r.Value is not null).ToList();
        var clears = output.Reminders.Where(r => r.Value is null).ToList();
        if (sets.Count > 0)
        {
            Add(batch,
                """
                INSERT INTO runtime.reminders (grain_type, grain_key, name, due_at, period_ms)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[])
                ON CONFLICT (grain_type, grain_key, name) DO UPDATE SET due_at = excluded.due_at, period_ms = excluded.period_ms
                """,
                Text(sets.Select(s => s.Key.Grain.Type)), Text(sets.Select(s => s.Key.Grain.Key)), Text(sets.Select(s => s.Key.Name)),
                Timestamps(sets.Select(s => s.Value!.Value.DueAt)),
                Int64Nullable(sets.Select(s => s.Value!.Value.Period is { } p ? (long)p.TotalMilliseconds : (long?)null)));
            Add(batch, "SELECT pg_notify('ma_reminders', '')");
        }

        if (clears.Count > 0)
        {
            Add(batch,
                """
                DELETE FROM runtime.reminders r USING unnest($1::text[], $2::text[], $3::text[]) AS u(t, k, n)
                WHERE r.grain_type = u.t AND r.grain_key = u.k AND r.name = u.n
                """,
                Text(clears.Select(s => s.Key.Grain.Type)), Text(clears.Select(s => s.Key.Grain.Key)), Text(clears.Select(s => s.Key.Name)));
        }

        if (output.Events.Count > 0)
        {
            Add(batch,
                $"""
                WITH inserted AS (
                    INSERT INTO runtime.events (grain_type, grain_key, seq, kind, payload)
                    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::jsonb[])
                    RETURNING id, grain_type, grain_key, seq, kind, payload, created_at)
                SELECT pg_notify('ma_events', json_build_object(
                    'id', id, 'type', grain_type, 'key', grain_key, 'seq', seq, 'kind', kind, 'at', created_at,
                    'payload', CASE WHEN octet_length(payload::text) < {MaxInlineNotification} THEN payload END)::text)
                FROM (SELECT * FROM inserted ORDER BY id) AS e
                """,
                Text(output.Events.Select(e => e.Grain.Type)), Text(output.Events.Select(e => e.Grain.Key)),
                Int64(output.Events.Select(e => e.Seq)), Text(output.Events.Select(e => e.Kind)), Jsonb(output.Events.Select(e => e.Payload)));
        }

        foreach (var (sql, parameters) in output.Commands)
        {
            var command = new NpgsqlBatchCommand(sql);
            foreach (var value in parameters)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
            }

            batch.BatchCommands.Add(command);
        }

        if (batch.BatchCommands.Count == 0)
        {
            return;
        }

        await using var reader = await batch.ExecuteReaderAsync();
        if (stateCommand is not null)
        {
            await reader.ReadAsync();
            var written = reader.GetInt64(0);
            if (written != output.States.Count)
            {
                throw new InvalidOperationException($"Grain state version conflict: wrote {written} of {output.States.Count} states. The batch is rolled back.");
            }
        }

        while (await reader.NextResultAsync())
        {
        }
    }

    private static string ReplyNotification(Reply reply)
    {
        var body = reply.Error is null ? $"{reply.RequestId}\nok\n{reply.Result}" : $"{reply.RequestId}\nerr\n{reply.Error}";
        // NOTIFY payloads are limited to 8000 bytes: larger replies are read from runtime.replies.
        return System.Text.Encoding.UTF8.GetByteCount(body) < MaxInlineNotification ? body : reply.RequestId.ToString();
    }

    private static NpgsqlBatchCommand Add(NpgsqlBatch batch, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        batch.BatchCommands.Add(command);
        return command;
    }

    private static NpgsqlParameter Text(IEnumerable<string?> values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values.ToArray() };

    private static NpgsqlParameter Jsonb(IEnumerable<string?> values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb, Value = values.ToArray() };

    private static NpgsqlParameter Int64(IEnumerable<long> values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = values.ToArray() };

    private static NpgsqlParameter Int64Nullable(IEnumerable<long?> values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = values.ToArray() };

    private static NpgsqlParameter Timestamps(IEnumerable<DateTimeOffset> values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = values.Select(v => v.UtcDateTime).ToArray() };

    private static NpgsqlParameter Int32(IEnumerable<int> values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = values.ToArray() };

    private static NpgsqlParameter Uuid(IEnumerable<Guid> values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, Value = values.ToArray() };
}
