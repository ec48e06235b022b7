using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace MediaActors.Api.Realtime;

/// <summary>
/// Relays the project events committed by any silo (received through LISTEN/NOTIFY, in commit order) to this
/// host's SignalR connections and server-sent-event streams. Every API host runs one, so a client gets each
/// event once, from the host it is connected to.
/// </summary>
public sealed class EventRelay(EventFeed events, IHubContext<ProjectHub> hub, ILogger<EventRelay> logger) : IHostedService
{
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
        var projectId = grainEvent.ProjectId;
        if (grainEvent.Payload.ValueKind != JsonValueKind.Object || !grainEvent.Payload.TryGetProperty("userId", out var user) || user.GetString() is not { Length: > 0 } userId)
        {
            logger.LogWarning("Project event {Kind} #{Seq} of {Project} has no owner; not relayed", grainEvent.Kind, grainEvent.Seq, projectId);
            return;
        }

        var message = ProjectEvents.ToMessage(grainEvent);
        try
        {
            // A connection is in its user's group or in project groups, never both, so it gets each event once.
            await hub.Clients.Groups(ProjectHub.UserGroup(userId), ProjectHub.ProjectGroup(projectId)).SendAsync(ProjectHub.EventMethod, message);
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
