using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using MediaActors.Api.Realtime;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MediaActors.Api.Tests.Realtime;

/// <summary>
/// The hub's lifetime manager: a batch of events reaches each connection of their groups once per event, in the batch's
/// order, written back to back; group changes and disconnects are followed. Connections here are SignalR's own
/// connection contexts over in-memory pipes, read as a client would read them (JSON records ending in 0x1E).
/// </summary>
public sealed class ProjectHubLifetimeManagerTests
{
    private readonly ProjectHubLifetimeManager _manager = new(NullLogger<DefaultHubLifetimeManager<ProjectHub>>.Instance, NullLogger<ProjectHubLifetimeManager>.Instance);

    private sealed record Client(HubConnectionContext Context, PipeReader Output);

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    private async Task<Client> ConnectAsync(params string[] groups)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var connection = new DefaultConnectionContext(Guid.NewGuid().ToString("N"), new Duplex(toServer.Reader, toClient.Writer), new Duplex(toClient.Reader, toServer.Writer));
        var context = new HubConnectionContext(connection, new HubConnectionContextOptions { KeepAliveInterval = TimeSpan.FromMinutes(5), ClientTimeoutInterval = TimeSpan.FromMinutes(5) }, NullLoggerFactory.Instance)
        {
            Protocol = new JsonHubProtocol(Options.Create(new JsonHubProtocolOptions())),
        };
        await _manager.OnConnectedAsync(context);
        foreach (var group in groups)
        {
            await _manager.AddToGroupAsync(context.ConnectionId, group);
        }

        return new Client(context, toClient.Reader);
    }

    /// <summary>The arguments of the invocations written to the client so far (what it would receive).</summary>
    private static List<string> Received(Client client)
    {
        var received = new List<string>();
        while (client.Output.TryRead(out var result))
        {
            var text = Encoding.UTF8.GetString(result.Buffer.ToArray());
            client.Output.AdvanceTo(result.Buffer.End);
            foreach (var record in text.Split('\u001e', StringSplitOptions.RemoveEmptyEntries))
            {
                using var json = JsonDocument.Parse(record);
                Assert.Equal("projectEvent", json.RootElement.GetProperty("target").GetString());
                received.Add(json.RootElement.GetProperty("arguments")[0].GetString()!);
            }
        }

        return received;
    }

    private static (IReadOnlyList<string> Groups, string Method, object?[] Args) Event(string name, params string[] groups) =>
        (groups, ProjectHub.EventMethod, [name]);

    [Fact]
    public async Task Each_connection_gets_its_events_once_and_in_the_batch_order()
    {
        var userA = await ConnectAsync("user:a");
        var projectP = await ConnectAsync("project:p");
        var userB = await ConnectAsync("user:b");
        var both = await ConnectAsync("user:a", "project:p");

        await _manager.SendBatchAsync([
            Event("e1", "user:a", "project:p"),
            Event("e2", "user:b", "project:q"),
            Event("e3", "user:a", "project:p"),
            Event("e4", "nobody"),
        ]);

        Assert.Equal(["e1", "e3"], Received(userA));
        Assert.Equal(["e1", "e3"], Received(projectP));
        Assert.Equal(["e2"], Received(userB));
        Assert.Equal(["e1", "e3"], Received(both));
    }

    [Fact]
    public async Task Leaving_a_group_or_disconnecting_stops_the_events_and_the_base_sends_still_work()
    {
        var stays = await ConnectAsync("user:a");
        var leaves = await ConnectAsync("user:a");
        var disconnects = await ConnectAsync("user:a", "project:p");
        await _manager.RemoveFromGroupAsync(leaves.Context.ConnectionId, "user:a");
        await _manager.OnDisconnectedAsync(disconnects.Context);
        // A connection that subscribes after it was dropped is not added back.
        await _manager.AddToGroupAsync(disconnects.Context.ConnectionId, "project:p");

        await _manager.SendBatchAsync([Event("e1", "user:a", "project:p")]);
        Assert.Equal(["e1"], Received(stays));
        Assert.Empty(Received(leaves));
        Assert.Empty(Received(disconnects));

        // The base class's group sends see the same membership.
        await _manager.SendGroupAsync("user:a", ProjectHub.EventMethod, ["e2"]);
        Assert.Equal(["e2"], Received(stays));
        Assert.Empty(Received(leaves));

        // Joining again works, and an empty group is gone without harm.
        await _manager.AddToGroupAsync(leaves.Context.ConnectionId, "user:a");
        await _manager.RemoveFromGroupAsync(stays.Context.ConnectionId, "user:a");
        await _manager.SendBatchAsync([Event("e3", "user:a"), Event("e4", "project:p")]);
        Assert.Equal(["e3"], Received(leaves));
        Assert.Empty(Received(stays));
    }
}
