using System.Text.Json;

namespace MediaActors.Api.Realtime;

/// <summary>
/// Relays the project events committed by any silo (received through LISTEN/NOTIFY, in commit order) to this
/// host's SignalR connections and server-sent-event streams. Every API host runs one, so a client gets each
/// event once, from the host it is connected to. Per project it relays each sequence number once and in order: a
/// repeat (a replay after a reconnect) is dropped, and a gap (events written while the feed was reconnecting) is
/// filled from the log first.
/// </summary>
public sealed class EventRelay(EventFeed events, ProjectHubLifetimeManager hubs, IConfiguration configuration, ILogger<EventRelay> logger) : IHostedService
{
    // Realtime:BatchEvents=false sends each event to every connection before the next (for comparison in bench/Realtime).
    private readonly bool _batch = configuration.GetValue("Realtime:BatchEvents", true);

    private const int MaxRemembered = 100_000;

    // The last sequence number relayed per project in flight; only the feed's single reader touches it.
    private readonly Dictionary<Guid, long> _relayed = [];
    private IDisposable? _subscription;

    /// <summary>Raised for every project event, for the server-sent-event streams of this host.</summary>
    public event Func<ProjectEventMessage, string, ValueTask>? Received;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.Subscribe(RelayAsync);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }

    private async ValueTask RelayAsync(IReadOnlyList<StoredEvent> batch)
    {
        // What to send, in order: each new event, after the events of its project it missed.
        var outgoing = new List<StoredEvent>(batch.Count);
        foreach (var grainEvent in batch)
        {
            var last = _relayed.GetValueOrDefault(grainEvent.ProjectId);
            if (grainEvent.Seq <= last)
            {
                continue;
            }

            if (last > 0 && grainEvent.Seq > last + 1)
            {
                try
                {
                    outgoing.AddRange(await events.ReadAsync(grainEvent.ProjectId, last, (int)Math.Min(grainEvent.Seq - last - 1, 10_000)));
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Reading events {From}-{To} of project {Project} failed; clients catch up by sequence", last + 1, grainEvent.Seq - 1, grainEvent.ProjectId);
                }
            }

            outgoing.Add(grainEvent);
            if (_relayed.Count >= MaxRemembered && !_relayed.ContainsKey(grainEvent.ProjectId))
            {
                // Bounded memory: forgetting only costs a possible repeat after a reconnect, which clients drop by sequence.
                _relayed.Clear();
            }

            _relayed[grainEvent.ProjectId] = grainEvent.Seq;
        }

        if (outgoing.Count > 0)
        {
            await SendAsync(outgoing);
        }
    }

    private async ValueTask SendAsync(List<StoredEvent> outgoing)
    {
        var sends = new List<(IReadOnlyList<string> Groups, string Method, object?[] Args)>(outgoing.Count);
        var messages = new List<(ProjectEventMessage Message, string UserId)>(outgoing.Count);
        foreach (var grainEvent in outgoing)
        {
            if (grainEvent.Payload.ValueKind != JsonValueKind.Object || !grainEvent.Payload.TryGetProperty("userId", out var user) || user.GetString() is not { Length: > 0 } userId)
            {
                logger.LogWarning("Project event {Kind} #{Seq} of {Project} has no owner; not relayed", grainEvent.Kind, grainEvent.Seq, grainEvent.ProjectId);
                continue;
            }

            var message = ProjectEvents.ToMessage(grainEvent);
            messages.Add((message, userId));
            // A connection is in its user's group or in project groups, never both, so it gets each event once.
            sends.Add(([ProjectHub.UserGroup(userId), ProjectHub.ProjectGroup(grainEvent.ProjectId)], ProjectHub.EventMethod, [message]));
        }

        var relayStart = logger.IsEnabled(LogLevel.Debug) ? DateTimeOffset.UtcNow : default;
        try
        {
            // The events of one batch leave together: each connection gets its share written back to back.
            if (_batch)
            {
                await hubs.SendBatchAsync(sends);
            }
            else
            {
                foreach (var send in sends)
                {
                    await hubs.SendBatchAsync([send]);
                }
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Relaying {Count} events failed", sends.Count);
        }

        if (relayStart != default)
        {
            // Where an event's latency goes (bench/Realtime): from the grain raising it to this host, and the fan-out.
            var sent = DateTimeOffset.UtcNow;
            foreach (var grainEvent in outgoing)
            {
                var notified = grainEvent.NotifiedAt ?? relayStart;
                logger.LogDebug("Relayed event #{Seq} of {Project} in a batch of {Count}: notified {NotifiedMs:0.0} ms after it was raised, relayed {QueuedMs:0.0} ms later, sent to SignalR in {SendMs:0.0} ms",
                    grainEvent.Seq, grainEvent.ProjectId, outgoing.Count, (notified - grainEvent.At).TotalMilliseconds, (relayStart - notified).TotalMilliseconds,
                    (sent - relayStart).TotalMilliseconds);
            }
        }

        if (Received is { } received)
        {
            foreach (var (message, userId) in messages)
            {
                try
                {
                    await received(message, userId);
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Relaying event #{Seq} of project {Project} to event streams failed", message.Seq, message.ProjectId);
                }
            }
        }
    }
}
