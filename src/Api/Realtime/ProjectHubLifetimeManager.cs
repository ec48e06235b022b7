using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace MediaActors.Api.Realtime;

/// <summary>
/// SignalR's in-memory lifetime manager for <see cref="ProjectHub"/>, plus <see cref="SendBatchAsync"/>: several events
/// written to each connection back to back, so the events one commit raises (a retry's <c>retry_scheduled</c> and
/// <c>status_changed</c>, for example) usually leave in one WebSocket frame and one socket write instead of one each.
/// With many connections that write is most of an event's cost (docs/BENCHMARKS.md). It keeps its own index of the
/// groups' connections beside the base class's, which it does not expose.
/// </summary>
public sealed class ProjectHubLifetimeManager(ILogger<DefaultHubLifetimeManager<ProjectHub>> baseLogger, ILogger<ProjectHubLifetimeManager> logger)
    : DefaultHubLifetimeManager<ProjectHub>(baseLogger)
{
    private readonly ConcurrentDictionary<string, Member> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, HubConnectionContext>> _groups = new(StringComparer.Ordinal);

    // Membership changes (rare next to sends, which read the dictionaries without it) take this lock.
    private readonly Lock _gate = new();

    /// <summary>A connection and the groups it is in.</summary>
    private sealed class Member(HubConnectionContext connection)
    {
        public HubConnectionContext Connection { get; } = connection;

        public HashSet<string> Groups { get; } = new(StringComparer.Ordinal);

        public bool Gone { get; set; }
    }

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        await base.OnConnectedAsync(connection);
        _connections[connection.ConnectionId] = new Member(connection);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        if (_connections.TryRemove(connection.ConnectionId, out var member))
        {
            lock (_gate)
            {
                member.Gone = true;
                foreach (var group in member.Groups)
                {
                    RemoveFromIndex(group, connection.ConnectionId);
                }

                member.Groups.Clear();
            }
        }

        await base.OnDisconnectedAsync(connection);
    }

    public override async Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        await base.AddToGroupAsync(connectionId, groupName, cancellationToken);
        if (_connections.TryGetValue(connectionId, out var member))
        {
            lock (_gate)
            {
                if (!member.Gone && member.Groups.Add(groupName))
                {
                    _groups.GetOrAdd(groupName, _ => new ConcurrentDictionary<string, HubConnectionContext>(StringComparer.Ordinal))[connectionId] = member.Connection;
                }
            }
        }
    }

    public override async Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        if (_connections.TryGetValue(connectionId, out var member))
        {
            lock (_gate)
            {
                if (member.Groups.Remove(groupName))
                {
                    RemoveFromIndex(groupName, connectionId);
                }
            }
        }

        await base.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);
    }

    /// <summary>
    /// Sends each message to the connections of its groups (a connection in several of them gets it once). Each
    /// connection gets its messages in the batch's order, written one after the other.
    /// </summary>
    public async Task SendBatchAsync(IReadOnlyList<(IReadOnlyList<string> Groups, string Method, object?[] Args)> batch)
    {
        var messages = new SerializedHubMessage[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            messages[i] = new SerializedHubMessage(new InvocationMessage(batch[i].Method, batch[i].Args));
        }

        // Per connection, the indexes of its messages in order (most batches go to the same connections).
        var recipients = new Dictionary<HubConnectionContext, List<int>>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < batch.Count; i++)
        {
            foreach (var group in batch[i].Groups)
            {
                if (!_groups.TryGetValue(group, out var members))
                {
                    continue;
                }

                foreach (var connection in members.Values)
                {
                    if (!recipients.TryGetValue(connection, out var indexes))
                    {
                        recipients[connection] = indexes = new List<int>(batch.Count);
                    }

                    if (indexes.Count == 0 || indexes[^1] != i)
                    {
                        indexes.Add(i);
                    }
                }
            }
        }

        List<Task>? pending = null;
        foreach (var (connection, indexes) in recipients)
        {
            foreach (var i in indexes)
            {
                // Completes at once unless the connection's buffer is full; a later write queues behind it in order.
                var write = connection.WriteAsync(messages[i]);
                if (!write.IsCompletedSuccessfully)
                {
                    (pending ??= []).Add(write.AsTask());
                }
            }
        }

        if (pending is null)
        {
            return;
        }

        try
        {
            await Task.WhenAll(pending);
        }
        catch (Exception ex)
        {
            // A connection that fails a write is closed by SignalR; the others got their messages.
            logger.LogDebug(ex, "Writing events to a connection failed");
        }
    }

    // Called under _gate.
    private void RemoveFromIndex(string group, string connectionId)
    {
        if (_groups.TryGetValue(group, out var members))
        {
            members.TryRemove(connectionId, out _);
            if (members.IsEmpty)
            {
                _groups.TryRemove(group, out _);
            }
        }
    }
}
