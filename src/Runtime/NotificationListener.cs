using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MediaActors.Runtime;

/// <summary>The LISTEN/NOTIFY channels of the runtime.</summary>
public static class Channels
{
    public const string Mailbox = "ma_mailbox";
    public const string Reminders = "ma_reminders";
    public const string Work = "ma_work";
    public const string WorkCancel = "ma_work_cancel";
    public const string Replies = "ma_reply";
    public const string Events = "ma_events";

    public static readonly string[] All = [Mailbox, Reminders, Work, WorkCancel, Replies, Events];

    /// <summary>What every host listens to: replies to its calls and the event feed.</summary>
    public static readonly string[] Client = [Replies, Events];

    /// <summary>What a silo listens to as well: its mailboxes, reminders and work queue.</summary>
    public static readonly string[] Silo = [Mailbox, Reminders, Work, WorkCancel];
}

/// <summary>Channels a host needs; the listener LISTENs to the union of every registration, so an API host is not woken by the silos' traffic.</summary>
public sealed record ListenChannels(IReadOnlyList<string> Names);

/// <summary>One LISTEN connection per process; dispatches notifications to in-process handlers and reconnects on failure.</summary>
public sealed class NotificationListener(NpgsqlDataSource dataSource, IEnumerable<ListenChannels> channels, ILogger<NotificationListener> logger)
    : BackgroundService
{
    private readonly string[] _channels = channels.SelectMany(set => set.Names).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, Action<string>>> _handlers = new();
    private readonly ConcurrentDictionary<string, StrongBox<long>> _received = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Raised after every (re)connection, so waiters can re-check what they may have missed.</summary>
    public event Action? Connected;

    /// <summary>Completes once the first LISTEN is in place.</summary>
    public Task Listening => _listening.Task;

    /// <summary>The channels this process listens to.</summary>
    public IReadOnlyList<string> ChannelNames => _channels;

    public IDisposable On(string channel, Action<string> handler)
    {
        if (!_channels.Contains(channel, StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"This host does not listen to '{channel}'; register it with a {nameof(ListenChannels)} service.");
        }

        var id = Guid.NewGuid();
        var handlers = _handlers.GetOrAdd(channel, _ => new());
        handlers[id] = handler;
        return new Subscription(() => handlers.TryRemove(id, out _));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
                await using (var command = connection.CreateCommand())
                {
                    command.CommandText = string.Join(' ', _channels.Select(c => $"LISTEN {c};"));
                    await command.ExecuteNonQueryAsync(stoppingToken);
                }

                delay = TimeSpan.FromMilliseconds(200);
                _listening.TrySetResult();
                Connected?.Invoke();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Notification connection lost; reconnecting in {Delay}", delay);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>How many notifications arrived on <paramref name="channel"/> since the process started.</summary>
    public long ReceivedCount(string channel) => _received.TryGetValue(channel, out var count) ? Interlocked.Read(ref count.Value) : 0;

    private void Dispatch(string channel, string payload)
    {
        Interlocked.Increment(ref _received.GetOrAdd(channel, _ => new StrongBox<long>()).Value);
        if (!_handlers.TryGetValue(channel, out var handlers))
        {
            return;
        }

        foreach (var handler in handlers.Values)
        {
            try
            {
                handler(payload);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Notification handler for {Channel} failed", channel);
            }
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                dispose();
            }
        }
    }
}
