using MediaActors.Runtime.TestSilo;
using Microsoft.Extensions.DependencyInjection;

namespace MediaActors.Runtime.Tests;

/// <summary>A host that only calls grains (an API host) listens to replies and events, not to the silos' own traffic.</summary>
public sealed class ListenChannelTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_client_host_is_not_woken_by_mailbox_and_work_notifications()
    {
        await using var silo = new AsyncHost(await Cluster.StartSiloAsync(database.ConnectionString));
        await using var client = new AsyncHost(await Cluster.StartClientAsync(database.ConnectionString));
        var clientListener = client.Host.Services.GetRequiredService<NotificationListener>();
        var siloListener = silo.Host.Services.GetRequiredService<NotificationListener>();
        var counter = client.Host.Client().GetGrain<ICounterGrain>($"listen-{Guid.NewGuid():N}");

        for (var i = 0; i < 20; i++)
        {
            await counter.Add(1);
        }

        Assert.Equal(20, (await counter.Get()).Count);

        Assert.Equal([Channels.Events, Channels.Replies], clientListener.ChannelNames);
        Assert.Equal(Channels.All.Order(StringComparer.Ordinal), siloListener.ChannelNames);
        Assert.True(siloListener.ReceivedCount(Channels.Mailbox) > 0, "the silo heard no mailbox notification");
        Assert.Equal(0, clientListener.ReceivedCount(Channels.Mailbox));
        Assert.True(clientListener.ReceivedCount(Channels.Replies) > 0, "the client heard no reply notification");
        Assert.Throws<InvalidOperationException>(() => clientListener.On(Channels.Work, _ => { }));
    }
}
