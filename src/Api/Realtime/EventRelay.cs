using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace MediaActors.Api.Realtime;

/// <summary>
/// Relays the project events committed by any silo (received through LISTEN/NOTIFY, in commit order) to this
/// host's SignalR connections and server-sent-event streams. Every API host runs one, so a client gets each
/// event once, from the host it is connected to. Per project it relays each sequence number once and in order: a
/// repeat (a replay after a reconnect) is dropped, and a gap (events written while the feed was reconnecting) is
/// filled from the log first.
/// </summary>
public sealed class EventRelay(EventFeed events, IHubContext<ProjectHub> hub, ILogger<EventRelay> logger) : IHostedService
{
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

    private async ValueTask RelayAsync(StoredEvent grainEvent)
    {
        var last = _relayed.GetValueOrDefault(grainEvent.ProjectId);
        if (grainEvent.Seq <= last)
        {
            return;
        }

        if (last > 0 && grainEvent.Seq > last + 1)
        {
            try
            {
                foreach (var missed in await events.ReadAsync(grainEvent.ProjectId, last, (int)Math.Min(grainEvent.Seq - last - 1, 10_000)))
                {
                    await SendAsync(missed);
                }
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Reading events {From}-{To} of project {Project} failed; clients catch up by sequence", last + 1, grainEvent.Seq - 1, grainEvent.ProjectId);
            }
        }

        await SendAsync(grainEvent);
        if (_relayed.Count >= MaxRemembered && !_relayed.ContainsKey(grainEvent.ProjectId))
        {
            // Bounded memory: forgetting only costs a possible repeat after a reconnect, which clients drop by sequence.
            _relayed.Clear();
        }

        _relayed[grainEvent.ProjectId] = grainEvent.Seq;
    }

    private async ValueTask SendAsync(StoredEvent grainEvent)
    {
        var projectId = grainEvent.ProjectId;
        if (grainEvent.Payload.ValueKind != JsonValueKind.Object || !grainEvent.Payload.TryGetProperty("userId", out var user) || user.GetString() is not { Length: > 0 } userId)
        {
            logger.LogWarning("Project event {Kind} #{Seq} of {Project} has no owner; not relayed", grainEvent.Kind, grainEvent.Seq, projectId);
            return;
        }

        var message = ProjectEvents.ToMessage(grainEvent);
        try
        {
            var relayStart = logger.IsEnabled(LogLevel.Debug) ? DateTimeOffset.UtcNow : default;
            // A connection is in its user's group or in project groups, never both, so it gets each event once.
            await hub.Clients.Groups(ProjectHub.UserGroup(userId), ProjectHub.ProjectGroup(projectId)).SendAsync(ProjectHub.EventMethod, message);
            if (relayStart != default)
            {
                // Where an event's latency goes (bench/Realtime): from the grain raising it to this host, and the fan-out.
                var notified = grainEvent.NotifiedAt ?? relayStart;
                logger.LogDebug("Relayed event #{Seq} of {Project}: notified {NotifiedMs:0.0} ms after it was raised, relayed {QueuedMs:0.0} ms later, sent to SignalR in {SendMs:0.0} ms",
                    grainEvent.Seq, projectId, (notified - grainEvent.At).TotalMilliseconds, (relayStart - notified).TotalMilliseconds,
                    (DateTimeOffset.UtcNow - relayStart).TotalMilliseconds);
            }

            if (Received is { } received)
            {
                await received(message, userId);
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Relaying event #{Seq} of project {Project} failed", grainEvent.Seq, projectId);
        }
    }
}
