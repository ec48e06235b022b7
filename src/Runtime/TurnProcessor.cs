using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Runtime;

/// <summary>
/// Runs grain turns. A batch locks up to N grains that have due messages (transaction-scoped advisory
/// locks, skipping grains another silo holds), runs their messages one at a time, and commits the new
/// states, the acknowledgements and everything the turns emitted in one transaction.
/// </summary>
public sealed class TurnProcessor(
    NpgsqlDataSource dataSource,
    GrainCatalog catalog,
    IServiceProvider services,
    NotificationListener listener,
    ClusterClient client,
    SiloIdentity silo,
    RuntimeMetrics metrics,
    TimeProvider time,
    IOptions<RuntimeOptions> options,
    ILogger<TurnProcessor> logger) : BackgroundService
{
    private readonly RuntimeOptions _options = options.Value;
    private readonly WakeSignal _wake = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (catalog.Registrations.Count == 0)
        {
            return;
        }

        using var subscription = listener.On(Channels.Mailbox, _ => _wake.Set());
        client.MessagesQueued += _wake.Set;
        try
        {
            var loops = Enumerable.Range(0, Math.Max(1, _options.TurnConcurrency)).Select(_ => LoopAsync(stoppingToken));
            await Task.WhenAll(loops);
        }
        finally
        {
            client.MessagesQueued -= _wake.Set;
        }
    }

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var token = _wake.Token;
            try
            {
                var processed = await RunBatchAsync(stoppingToken);
                failures = 0;
                if (processed == 0)
                {
                    await WakeSignal.WaitAsync(token, _options.PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6))));
                logger.LogError(ex, "A turn batch failed; nothing of it was committed. Retrying in {Delay}", delay);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Runs one batch; returns how many messages it processed.</summary>
    internal async Task<int> RunBatchAsync(CancellationToken stoppingToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        await using var transaction = await connection.BeginTransactionAsync(stoppingToken);
        var grains = await LockGrainsAsync(connection, stoppingToken);
        if (grains.Count == 0)
        {
            await transaction.CommitAsync(CancellationToken.None);
            return 0;
        }

        var started = Stopwatch.GetTimestamp();
        var (states, messages) = await LoadAsync(connection, grains);
        var batch = new BatchOutput();
        var turns = 0;
        foreach (var grainMessages in messages.GroupBy(m => m.Grain))
        {
            states.TryGetValue(grainMessages.Key, out var stored);
            turns += await RunGrainAsync(grainMessages.Key, stored, grainMessages.ToList(), batch);
        }

        // From here on the batch completes even during shutdown: it is already computed.
        await BatchWriter.WriteAsync(connection, batch, silo.Id);
        await transaction.CommitAsync(CancellationToken.None);

        metrics.BatchCommitted(batch.Acknowledged.Count + batch.DeadLetters.Count, Stopwatch.GetElapsedTime(started));
        return messages.Count;
    }

    /// <summary>
    /// The grains with a message waiting for a retry, and the first such message: a grain handles its messages in the order
    /// they were sent, a failing one-way message included, so its later messages wait too. Only retries are ever due later
    /// than sent (attempts &gt; 0, the small partial index messages_retrying_idx); usually this is empty.
    /// </summary>
    private const string HeldGrains =
        "held AS MATERIALIZED (SELECT grain_type, grain_key, min(id) AS first_id FROM runtime.messages WHERE attempts > 0 AND due_at > now() GROUP BY grain_type, grain_key)";

    /// <summary>True for a message m that a retrying earlier message of its grain holds back (with <see cref="HeldGrains"/>).</summary>
    private const string HeldBack =
        "EXISTS (SELECT 1 FROM held h WHERE h.grain_type = m.grain_type AND h.grain_key = m.grain_key AND h.first_id < m.id)";

    private async Task<List<GrainId>> LockGrainsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // Candidates come from a bounded window of the oldest due messages; grains locked by another silo are skipped.
        // A message behind one of its grain's that waits for a retry is not due yet (see HeldBack).
        await using var command = new NpgsqlCommand(
            $"""
            WITH {HeldGrains},
            candidates AS MATERIALIZED (
                SELECT grain_type, grain_key, min(id) AS first_id
                FROM (SELECT grain_type, grain_key, id FROM runtime.messages m
                      WHERE due_at <= now() AND grain_type = ANY($1) AND NOT {HeldBack}
                      ORDER BY due_at, id LIMIT $2) AS window_
                GROUP BY grain_type, grain_key
                ORDER BY first_id)
            SELECT grain_type, grain_key FROM candidates
            WHERE pg_try_advisory_xact_lock(hashtextextended(grain_type || '/' || grain_key, 0))
            LIMIT $3
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = catalog.TypeNames });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Max(_options.MaxMessagesPerBatch * 4, 1024) });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = _options.MaxGrainsPerBatch });
        var grains = new List<GrainId>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            grains.Add(new GrainId(reader.GetString(0), reader.GetString(1)));
        }

        return grains;
    }

    private async Task<(Dictionary<GrainId, StoredState> States, List<Message> Messages)> LoadAsync(NpgsqlConnection connection, List<GrainId> grains)
    {
        // A fresh statement after the locks: it sees everything the previous holder of each lock committed.
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(
                    """
                    SELECT g.grain_type, g.grain_key, g.state::text, g.version, g.event_seq
                    FROM runtime.grains g JOIN unnest($1::text[], $2::text[]) AS l(t, k) ON g.grain_type = l.t AND g.grain_key = l.k
                    """),
                new NpgsqlBatchCommand(
                    $"""
                    WITH {HeldGrains}
                    SELECT m.id, m.grain_type, m.grain_key, m.method, m.args::text, m.request_id, coalesce(m.expires_at < now(), false), m.attempts
                    FROM runtime.messages m JOIN unnest($1::text[], $2::text[]) AS l(t, k) ON m.grain_type = l.t AND m.grain_key = l.k
                    WHERE m.due_at <= now() AND NOT {HeldBack}
                    ORDER BY m.id
                    LIMIT $3
                    """),
            },
        };
        var types = grains.Select(g => g.Type).ToArray();
        var keys = grains.Select(g => g.Key).ToArray();
        batch.BatchCommands[0].Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
        batch.BatchCommands[0].Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys });
        batch.BatchCommands[1].Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
        batch.BatchCommands[1].Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys });
        batch.BatchCommands[1].Parameters.Add(new NpgsqlParameter<int> { TypedValue = _options.MaxMessagesPerBatch });

        var states = new Dictionary<GrainId, StoredState>();
        var messages = new List<Message>();
        await using var reader = await batch.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            states[new GrainId(reader.GetString(0), reader.GetString(1))] =
                new StoredState(reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4));
        }

        await reader.NextResultAsync();
        while (await reader.ReadAsync())
        {
            messages.Add(new Message(
                reader.GetInt64(0), new GrainId(reader.GetString(1), reader.GetString(2)), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetGuid(5), reader.GetBoolean(6), reader.GetInt32(7)));
        }

        return (states, messages);
    }

    private async Task<int> RunGrainAsync(GrainId id, StoredState? stored, List<Message> messages, BatchOutput batch)
    {
        var registration = catalog.Find(id.Type)!;
        var grain = registration.Create(services);
        grain.StateObject = DeserializeState(grain.StateType, stored?.State);
        // Serialized once as loaded, so that turns that change nothing (reads) write nothing.
        var loadedJson = JsonSerializer.Serialize(grain.StateObject, grain.StateType, RuntimeJson.Options);
        var stateJson = loadedJson;
        var eventSeq = stored?.EventSeq ?? 0;
        var turns = 0;

        foreach (var message in messages)
        {
            if (message.Expired)
            {
                // The caller stopped waiting; running the call now would act on a request nobody expects.
                logger.LogWarning("Dropped expired request {Grain}.{Method}", id, message.Method);
                batch.Acknowledged.Add(message.Id);
                continue;
            }

            var outbox = new TurnOutbox();
            grain.Attach(new TurnContext(id, time.GetUtcNow(), outbox));
            var started = Stopwatch.GetTimestamp();
            try
            {
                var result = await DispatchAsync(registration, grain, message);
                stateJson = JsonSerializer.Serialize(grain.StateObject, grain.StateType, RuntimeJson.Options);
                turns++;
                eventSeq = batch.Merge(id, outbox, eventSeq);
                batch.Acknowledged.Add(message.Id);
                if (message.RequestId is { } requestId)
                {
                    batch.Replies.Add(new Reply(requestId, result?.GetRawText(), null));
                }

                metrics.TurnCompleted(id.Type, Stopwatch.GetElapsedTime(started), failed: false);
            }
            catch (Exception ex)
            {
                metrics.TurnCompleted(id.Type, Stopwatch.GetElapsedTime(started), failed: true);
                // Nothing of a failed turn survives: its state changes and its outbox are dropped.
                grain.StateObject = DeserializeState(grain.StateType, stateJson);
                var error = $"{ex.GetType().Name}: {ex.Message}";
                if (message.RequestId is { } requestId)
                {
                    batch.Acknowledged.Add(message.Id);
                    batch.Replies.Add(new Reply(requestId, null, error));
                }
                else if (message.Attempts + 1 >= _options.MaxMessageAttempts)
                {
                    logger.LogError(ex, "{Grain}.{Method} failed {Attempts} times; moved to runtime.dead_messages", id, message.Method, message.Attempts + 1);
                    batch.DeadLetters.Add((message.Id, error));
                }
                else
                {
                    var delay = TimeSpan.FromMilliseconds(200 * Math.Pow(4, message.Attempts));
                    logger.LogWarning(ex, "{Grain}.{Method} failed (attempt {Attempt}); retrying in {Delay}", id, message.Method, message.Attempts + 1, delay);
                    batch.Retries.Add((message.Id, message.Attempts + 1, (long)delay.TotalMilliseconds, error));
                    // The grain's later messages wait for this one: they stay in the mailbox, held back until its retry.
                    break;
                }
            }
        }

        if (stateJson != loadedJson || eventSeq != (stored?.EventSeq ?? 0))
        {
            batch.States.Add(new StateWrite(id, stateJson, stored?.Version ?? 0, eventSeq));
        }

        return turns;
    }

    private static async Task<JsonElement?> DispatchAsync(GrainRegistration registration, Grain grain, Message message)
    {
        using var args = JsonDocument.Parse(message.Args);
        switch (message.Method)
        {
            case SystemMethods.Reminder:
                await grain.OnReminder(args.RootElement[0].GetString()!);
                return null;
            case SystemMethods.WorkCompleted:
                await grain.OnWorkCompleted(args.RootElement[0].Deserialize<WorkResult>(RuntimeJson.Options)!);
                return null;
            case SystemMethods.WorkProgress:
                await grain.OnWorkProgress(args.RootElement[0].Deserialize<WorkProgress>(RuntimeJson.Options)!);
                return null;
        }

        if (!registration.Interface.Methods.TryGetValue(message.Method, out var method))
        {
            throw new MissingMethodException($"Grain type '{registration.Interface.TypeName}' has no method '{message.Method}'.");
        }

        return await method.InvokeAsync(grain, method.DecodeArguments(args.RootElement));
    }

    private static object DeserializeState(Type stateType, string? json) =>
        json is null ? Activator.CreateInstance(stateType)! : JsonSerializer.Deserialize(json, stateType, RuntimeJson.Options) ?? Activator.CreateInstance(stateType)!;

    private sealed record StoredState(string? State, long Version, long EventSeq);

    private sealed record Message(long Id, GrainId Grain, string Method, string Args, Guid? RequestId, bool Expired, int Attempts);
}
