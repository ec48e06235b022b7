using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace MediaActors.Runtime;

/// <summary>The runtime as seen from outside a grain: grain references, and the event log.</summary>
public interface IClusterClient : IGrainFactory
{
    /// <summary>The grains' events: live subscription and reads by sequence number.</summary>
    IGrainEvents Events { get; }

    /// <summary>Calls <paramref name="method"/> with a timeout other than the configured default.</summary>
    IGrainFactory WithTimeout(TimeSpan timeout);
}

/// <summary>Sends calls as durable messages, batching concurrent sends into one insert (group commit), and routes replies back to their callers.</summary>
public sealed class ClusterClient : BackgroundService, IClusterClient
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly NotificationListener _listener;
    private readonly RuntimeOptions _options;
    private readonly ILogger<ClusterClient> _logger;
    private readonly Channel<Outgoing> _outgoing = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<JsonElement?>> _pending = new();
    private readonly string _sender;
    private readonly TimeoutSink _defaultSink;

    public ClusterClient(NpgsqlDataSource dataSource, NotificationListener listener, IOptions<RuntimeOptions> options, GrainEvents events, ILogger<ClusterClient> logger)
    {
        _dataSource = dataSource;
        _listener = listener;
        _options = options.Value;
        _logger = logger;
        _sender = $"{Environment.MachineName}:{Environment.ProcessId}";
        _defaultSink = new TimeoutSink(this, _options.CallTimeout);
        Events = events;
        _listener.On(Channels.Replies, OnReplyNotification);
        _listener.Connected += () => _ = RecheckPendingRepliesAsync();
    }

    public IGrainEvents Events { get; }

    public T GetGrain<T>(string key) where T : IGrain => GrainProxy.Create<T>(_defaultSink, key);

    public IGrainFactory WithTimeout(TimeSpan timeout) => new TimeoutSink(this, timeout);

    /// <summary>Raised (in-process) after messages were queued, so a local silo can start at once.</summary>
    public event Action? MessagesQueued;

    /// <summary>Queues a call; completes when it is durably stored (one-way) or when the reply comes (request).</summary>
    public async Task<JsonElement?> CallAsync(GrainId target, GrainMethod method, JsonArray args, TimeSpan timeout)
    {
        var isRequest = !method.IsOneWay;
        var requestId = isRequest ? Guid.CreateVersion7() : (Guid?)null;
        TaskCompletionSource<JsonElement?>? reply = null;
        if (requestId is { } id)
        {
            reply = new TaskCompletionSource<JsonElement?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = reply;
        }

        var stored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outgoing = new Outgoing(target, method.Name, args.ToJsonString(RuntimeJson.Options), requestId, isRequest ? (long)timeout.TotalMilliseconds : null, stored);
        try
        {
            await _outgoing.Writer.WriteAsync(outgoing);
            await stored.Task;
            if (reply is null)
            {
                return null;
            }

            try
            {
                return await reply.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{target}.{method.Name} got no reply within {timeout.TotalSeconds:0.###} s: no silo processed it in time. The request expires unprocessed.");
            }
        }
        finally
        {
            if (requestId is { } done)
            {
                _pending.TryRemove(done, out _);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Outgoing>(1024);
        // Drains until the writer completes at shutdown, so calls already accepted are still stored.
        while (await _outgoing.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < 1000 && _outgoing.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                await InsertAsync(batch);
                foreach (var item in batch)
                {
                    item.Stored.TrySetResult();
                }

                MessagesQueued?.Invoke();
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Storing {Count} messages failed", batch.Count);
                foreach (var item in batch)
                {
                    item.Stored.TrySetException(ex);
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _outgoing.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task InsertAsync(List<Outgoing> batch)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO runtime.messages (grain_type, grain_key, method, args, request_id, expires_at, sender)
            SELECT t, k, m, a, r, CASE WHEN ms IS NULL THEN NULL ELSE now() + ms * interval '1 millisecond' END, @sender
            FROM unnest(@types, @keys, @methods, @args, @requests, @timeouts) AS u(t, k, m, a, r, ms);
            SELECT pg_notify('ma_mailbox', '');
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string[]>("types", batch.Select(b => b.Target.Type).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("keys", batch.Select(b => b.Target.Key).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("methods", batch.Select(b => b.Method).ToArray()));
        command.Parameters.Add(new NpgsqlParameter("args", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = batch.Select(b => b.Args).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("requests", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = batch.Select(b => b.RequestId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("timeouts", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = batch.Select(b => b.TimeoutMs).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string>("sender", _sender));
        await command.ExecuteNonQueryAsync();
    }

    private void OnReplyNotification(string payload)
    {
        // Payload: "<request id>" alone when the reply is large, else "<request id>\n<ok|err>\n<result json or error text>".
        var firstBreak = payload.IndexOf('\n');
        var idText = firstBreak < 0 ? payload : payload[..firstBreak];
        if (!Guid.TryParse(idText, out var requestId) || !_pending.TryGetValue(requestId, out var waiter))
        {
            return;
        }

        if (firstBreak < 0)
        {
            _ = FetchReplyAsync(requestId, waiter);
            return;
        }

        var rest = payload[(firstBreak + 1)..];
        var secondBreak = rest.IndexOf('\n');
        var kind = rest[..secondBreak];
        var body = rest[(secondBreak + 1)..];
        Complete(waiter, kind == "ok", body);
    }

    private static void Complete(TaskCompletionSource<JsonElement?> waiter, bool ok, string? body)
    {
        if (!ok)
        {
            waiter.TrySetException(new GrainCallException(body ?? "The grain call failed."));
            return;
        }

        waiter.TrySetResult(string.IsNullOrEmpty(body) ? null : JsonDocument.Parse(body).RootElement.Clone());
    }

    private async Task FetchReplyAsync(Guid requestId, TaskCompletionSource<JsonElement?> waiter)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("SELECT result::text, error FROM runtime.replies WHERE request_id = $1");
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = requestId });
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                var error = reader.IsDBNull(1) ? null : reader.GetString(1);
                Complete(waiter, error is null, error ?? (reader.IsDBNull(0) ? null : reader.GetString(0)));
            }
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Reading reply {RequestId} failed", requestId);
        }
    }

    private async Task RecheckPendingRepliesAsync()
    {
        foreach (var (requestId, waiter) in _pending)
        {
            await FetchReplyAsync(requestId, waiter);
        }
    }

    private sealed record Outgoing(GrainId Target, string Method, string Args, Guid? RequestId, long? TimeoutMs, TaskCompletionSource Stored);

    private sealed class TimeoutSink(ClusterClient client, TimeSpan timeout) : ICallSink, IGrainFactory
    {
        public Task<JsonElement?> CallAsync(GrainId target, GrainMethod method, JsonArray args) => client.CallAsync(target, method, args, timeout);

        public T GetGrain<T>(string key) where T : IGrain => GrainProxy.Create<T>(this, key);
    }
}
