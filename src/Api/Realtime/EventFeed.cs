using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Npgsql;

namespace MediaActors.Api.Realtime;

/// <summary>One stored project event: the project, its per-project sequence number, the kind, its JSON payload and when it happened.</summary>
public sealed record StoredEvent(Guid ProjectId, long Seq, string Kind, JsonElement Payload, DateTimeOffset At)
{
    /// <summary>When this host's listener got the event's notification (null for events read from the table).</summary>
    public DateTimeOffset? NotifiedAt { get; init; }
}

/// <summary>
/// The project event log as this API host sees it: live events pushed by the silos (LISTEN on the channel the project
/// grains NOTIFY after writing an event, in commit order) and reads by sequence number from the project_events table.
/// One LISTEN connection per host, reconnected with backoff; after a reconnect, the events written since shortly before the
/// connection was lost are read from the table and delivered again (the relay drops what it already sent).
/// </summary>
public sealed class EventFeed(NpgsqlDataSource dataSource, ILogger<EventFeed> logger) : BackgroundService
{
    private const string Channel = "ma_events";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The most events handed to the handlers at once.</summary>
    private const int MaxBatch = 256;

    private readonly ConcurrentDictionary<Guid, Func<IReadOnlyList<StoredEvent>, ValueTask>> _handlers = new();
    // Notifications (Notified) and replays after a reconnect (StoredEvent[]), in the order they happened.
    private readonly Channel<object> _notifications = System.Threading.Channels.Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>How far before a lost connection the replay after a reconnect starts (commit and clock skew between hosts).</summary>
    private static readonly TimeSpan ReplayMargin = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Calls <paramref name="handler"/> with the events committed from now on, by any silo, in commit order: one call at a
    /// time, each with the events that arrived together (the list is reused after the call returns).
    /// </summary>
    public IDisposable Subscribe(Func<IReadOnlyList<StoredEvent>, ValueTask> handler)
    {
        var id = Guid.NewGuid();
        _handlers[id] = handler;
        return new Subscription(() => _handlers.TryRemove(id, out _));
    }

    /// <summary>The events of one project after sequence number <paramref name="afterSeq"/>, in order.</summary>
    public async Task<IReadOnlyList<StoredEvent>> ReadAsync(Guid projectId, long afterSeq, int limit = 500, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT seq, kind, payload::text, created_at FROM project_events WHERE project_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = afterSeq });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Clamp(limit, 1, 10_000) });
        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new StoredEvent(projectId, reader.GetInt64(0), reader.GetString(1), JsonDocument.Parse(reader.GetString(2)).RootElement.Clone(),
                new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero)));
        }

        return events;
    }

    /// <summary>Every event written since <paramref name="since"/>, per project in sequence order (at most 100,000).</summary>
    private async Task<StoredEvent[]> ReadSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT project_id, seq, kind, payload::text, created_at FROM project_events WHERE created_at >= $1 ORDER BY project_id, seq LIMIT 100000");
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = since.UtcDateTime });
        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new StoredEvent(reader.GetGuid(0), reader.GetInt64(1), reader.GetString(2), JsonDocument.Parse(reader.GetString(3)).RootElement.Clone(),
                new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero)));
        }

        return [.. events];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var deliver = Task.Run(() => DeliverAsync(stoppingToken), stoppingToken);
        var delay = TimeSpan.FromMilliseconds(200);
        DateTimeOffset? lostAt = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => _notifications.Writer.TryWrite(new Notified(e.Payload, DateTimeOffset.UtcNow));
                await using (var command = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await command.ExecuteNonQueryAsync(stoppingToken);
                }

                if (lostAt is { } since)
                {
                    // Listening again: what was written while nobody listened is read from the log.
                    var missed = await ReadSinceAsync(since - ReplayMargin, stoppingToken);
                    _notifications.Writer.TryWrite(missed);
                    logger.LogInformation("Event notifications reconnected; {Count} events written meanwhile replayed", missed.Length);
                    lostAt = null;
                }

                delay = TimeSpan.FromMilliseconds(200);
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                lostAt ??= DateTimeOffset.UtcNow;
                logger.LogWarning(ex, "Event notification connection lost; reconnecting in {Delay}", delay);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }

        _notifications.Writer.TryComplete();
        await deliver.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task DeliverAsync(CancellationToken stoppingToken)
    {
        var batch = new List<StoredEvent>();
        while (await _notifications.Reader.WaitToReadAsync(stoppingToken))
        {
            // Everything that arrived together goes to the handlers at once. The events of one commit arrive in one read
            // from PostgreSQL, and the listener hands them over one by one: yielding once lets it hand over the rest.
            await Task.Yield();
            batch.Clear();
            while (batch.Count < MaxBatch && _notifications.Reader.TryRead(out var item))
            {
                try
                {
                    if (item is StoredEvent[] replay)
                    {
                        batch.AddRange(replay);
                        continue;
                    }

                    var notified = (Notified)item;
                    var notification = JsonSerializer.Deserialize<Notification>(notified.Payload, Json)!;
                    if (notification.Payload is { } inline)
                    {
                        batch.Add(new StoredEvent(notification.ProjectId, notification.Seq, notification.Kind, inline, notification.At) { NotifiedAt = notified.At });
                    }
                    else
                    {
                        // Too large for a notification: read it from the log.
                        batch.AddRange(await ReadAsync(notification.ProjectId, notification.Seq - 1, 1, stoppingToken));
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "Reading an event notification failed");
                }
            }

            if (batch.Count == 0 || _handlers.IsEmpty)
            {
                continue;
            }

            foreach (var handler in _handlers.Values)
            {
                try
                {
                    await handler(batch);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "Delivering event notifications failed");
                }
            }
        }
    }

    /// <summary>What a project grain sends on the channel; Payload is null when the event was too large to inline.</summary>
    private sealed record Notification(Guid ProjectId, long Seq, string Kind, JsonElement? Payload, DateTimeOffset At);

    private sealed record Notified(string Payload, DateTimeOffset At);

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
