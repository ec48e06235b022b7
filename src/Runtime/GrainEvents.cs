using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MediaActors.Runtime;

/// <summary>The grains' event log: a live feed pushed by NOTIFY, and reads by per-grain sequence number.</summary>
public interface IGrainEvents
{
    /// <summary>Calls <paramref name="handler"/> for every event committed from now on, by any silo.</summary>
    IDisposable Subscribe(Func<GrainEvent, ValueTask> handler);

    /// <summary>The events of one grain after sequence number <paramref name="afterSeq"/>, in order.</summary>
    Task<IReadOnlyList<GrainEvent>> ReadAsync(GrainId grain, long afterSeq, int limit = 500, CancellationToken cancellationToken = default);
}

/// <summary>Serves <see cref="IGrainEvents"/> from the runtime.events table and the ma_events channel.</summary>
public sealed class GrainEvents : IGrainEvents
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<GrainEvents> _logger;
    private readonly ConcurrentDictionary<Guid, Func<GrainEvent, ValueTask>> _handlers = new();
    private readonly Channel<string> _notifications = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    public GrainEvents(NpgsqlDataSource dataSource, NotificationListener listener, ILogger<GrainEvents> logger)
    {
        _dataSource = dataSource;
        _logger = logger;
        listener.On(Channels.Events, payload =>
        {
            if (!_handlers.IsEmpty)
            {
                _notifications.Writer.TryWrite(payload);
            }
        });
        // One reader keeps the commit order of notifications.
        _ = Task.Run(DeliverAsync);
    }

    private async Task DeliverAsync()
    {
        await foreach (var payload in _notifications.Reader.ReadAllAsync())
        {
            await OnNotificationAsync(payload);
        }
    }

    public IDisposable Subscribe(Func<GrainEvent, ValueTask> handler)
    {
        var id = Guid.NewGuid();
        _handlers[id] = handler;
        return new Unsubscriber(() => _handlers.TryRemove(id, out _));
    }

    public async Task<IReadOnlyList<GrainEvent>> ReadAsync(GrainId grain, long afterSeq, int limit = 500, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(
            """
            SELECT id, grain_type, grain_key, seq, kind, payload::text, created_at FROM runtime.events
            WHERE grain_type = $1 AND grain_key = $2 AND seq > $3 ORDER BY seq LIMIT $4
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.Type });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain.Key });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = afterSeq });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = Math.Clamp(limit, 1, 10_000) });
        var events = new List<GrainEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new GrainEvent(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4),
                JsonDocument.Parse(reader.GetString(5)).RootElement.Clone(), reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return events;
    }

    private async Task OnNotificationAsync(string payload)
    {
        try
        {
            var notification = JsonSerializer.Deserialize<EventNotification>(payload, RuntimeJson.Options)!;
            GrainEvent grainEvent;
            if (notification.Payload is { } inline)
            {
                grainEvent = new GrainEvent(notification.Id, notification.Type, notification.Key, notification.Seq, notification.Kind, inline, notification.At);
            }
            else
            {
                // Too large for a notification: read it from the log.
                var read = await ReadAsync(new GrainId(notification.Type, notification.Key), notification.Seq - 1, 1);
                if (read.Count == 0)
                {
                    return;
                }

                grainEvent = read[0];
            }

            foreach (var handler in _handlers.Values)
            {
                await handler(grainEvent);
            }
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Delivering an event notification failed");
        }
    }

    /// <summary>The JSON the silo sends on ma_events; Payload is null when the event was too large to inline.</summary>
    internal sealed record EventNotification(long Id, string Type, string Key, long Seq, string Kind, JsonElement? Payload, DateTimeOffset At);

    private sealed class Unsubscriber(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
