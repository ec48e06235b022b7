using System.Collections.Concurrent;
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
}

/// <summary>One LISTEN connection per process; dispatches notifications to in-process handlers and reconnects on failure.</summary>
public sealed class NotificationListener(NpgsqlDataSource dataSource, ILogger<NotificationListener> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, Action<string>>> _handlers = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Raised after every (re)connection, so waiters can re-check what they may have missed.</summary>
    public event Action? Connected;

    /// <summary>Completes once the first LISTEN is in place.</summary>
    public Task Listening => _listening.Task;

    public IDisposable On(string channel, Action<string> handler)
    {
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
                    command.CommandText = string.Join(' ', Channels.All.Select(c => $"LISTEN {c};"));
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

    private void Dispatch(string channel, string payload)
    {
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
