using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace MediaActors.Runtime;

/// <summary>
/// Runs stateless workers from the durable work queue: claims items of each kind up to its concurrency,
/// holds a lease renewed by heartbeats, honours cancellation, and sends each result to the owning grain.
/// On shutdown it stops claiming, lets running items finish for a grace period, then releases their leases.
/// </summary>
public sealed class WorkerHost(
    NpgsqlDataSource dataSource,
    WorkerCatalog catalog,
    IServiceProvider services,
    NotificationListener listener,
    SiloIdentity silo,
    RuntimeMetrics metrics,
    IOptions<RuntimeOptions> options,
    ILogger<WorkerHost> logger) : IHostedService
{
    private readonly RuntimeOptions _options = options.Value;
    private readonly ConcurrentDictionary<Guid, Running> _running = new();
    private readonly CancellationTokenSource _stopClaiming = new();
    // Leases are renewed until the last running item finished or was released at shutdown, not only until claiming stops.
    private readonly CancellationTokenSource _stopHeartbeats = new();
    private readonly List<Task> _loops = [];
    private Task _heartbeats = Task.CompletedTask;
    private readonly List<IDisposable> _subscriptions = [];

    /// <summary>The items this silo is running now.</summary>
    public IReadOnlyCollection<Guid> RunningItems => [.. _running.Keys];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (catalog.Kinds.Count == 0)
        {
            return Task.CompletedTask;
        }

        _subscriptions.Add(listener.On(Channels.WorkCancel, OnCancelNotification));
        foreach (var kind in catalog.Kinds.Keys)
        {
            var concurrency = _options.WorkConcurrency.TryGetValue(kind, out var configured) ? configured : _options.DefaultWorkConcurrency;
            var wake = new WakeSignal();
            _subscriptions.Add(listener.On(Channels.Work, payload =>
            {
                if (payload == kind)
                {
                    wake.Set();
                }
            }));
            _loops.Add(Task.Run(() => ClaimLoopAsync(kind, Math.Max(1, concurrency), wake, _stopClaiming.Token), CancellationToken.None));
        }

        _heartbeats = Task.Run(() => HeartbeatLoopAsync(_stopHeartbeats.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopClaiming.CancelAsync();
        await Task.WhenAll(_loops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var inFlight = _running.Values.ToList();
        if (inFlight.Count > 0)
        {
            logger.LogInformation("Waiting up to {Grace} for {Count} running work items", _options.ShutdownGrace, inFlight.Count);
            await Task.WhenAll(inFlight.Select(r => r.Task)).WaitAsync(_options.ShutdownGrace, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var running in _running.Values)
            {
                running.Stop(StopReason.Shutdown);
            }

            // Past the grace, leases are no longer renewed: a worker that ignores its cancellation cannot keep its item from
            // another silo while this one waits for it.
            await _stopHeartbeats.CancelAsync();
            await Task.WhenAll(_running.Values.Select(r => r.Task)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await _stopHeartbeats.CancelAsync();
        await _heartbeats.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }
    }

    private async Task ClaimLoopAsync(string kind, int concurrency, WakeSignal wake, CancellationToken stopping)
    {
        using var slots = new SemaphoreSlim(concurrency, concurrency);
        while (!stopping.IsCancellationRequested)
        {
            var token = wake.Token;
            try
            {
                await slots.WaitAsync(stopping);
                slots.Release();
                var free = slots.CurrentCount;
                var items = await ClaimAsync(kind, free, stopping);
                foreach (var item in items)
                {
                    await slots.WaitAsync(CancellationToken.None);
                    Start(item, slots, wake);
                }

                if (items.Count == 0)
                {
                    await WakeSignal.WaitAsync(token, _options.PollInterval, stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Claiming {Kind} work failed", kind);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<List<Claimed>> ClaimAsync(string kind, int count, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            WITH candidates AS (
                SELECT id FROM runtime.work_items
                WHERE kind = $1 AND status = 'pending' AND due_at <= now()
                ORDER BY due_at LIMIT $2
                FOR UPDATE SKIP LOCKED),
            claimed AS (
                UPDATE runtime.work_items w
                SET status = 'running', attempts = w.attempts + 1, lease_owner = $3,
                    lease_expires_at = now() + $4 * interval '1 millisecond', started_at = coalesce(w.started_at, now())
                FROM candidates c WHERE w.id = c.id
                RETURNING w.id, w.payload, w.owner_type, w.owner_key, w.tag, w.attempts, w.max_attempts),
            attempts AS (
                INSERT INTO runtime.work_attempts (item_id, attempt, silo, started_at)
                SELECT id, attempts, $3, now() FROM claimed)
            SELECT id, payload::text, owner_type, owner_key, tag, attempts, max_attempts FROM claimed
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = count });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Id });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)_options.WorkLease.TotalMilliseconds });
        var items = new List<Claimed>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new Claimed(
                reader.GetGuid(0), kind, JsonDocument.Parse(reader.GetString(1)).RootElement.Clone(),
                new GrainId(reader.GetString(2), reader.GetString(3)), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetInt32(5), reader.GetInt32(6)));
        }

        return items;
    }

    private void Start(Claimed claimed, SemaphoreSlim slots, WakeSignal wake)
    {
        var running = new Running(claimed);
        _running[claimed.Id] = running;
        running.Task = Task.Run(async () =>
        {
            try
            {
                await RunAsync(running);
            }
            finally
            {
                _running.TryRemove(claimed.Id, out _);
                running.Dispose();
                slots.Release();
                wake.Set();
            }
        });
    }

    private async Task RunAsync(Running running)
    {
        var claimed = running.Item;
        var item = new WorkItem(claimed.Id, claimed.Kind, claimed.Payload, claimed.Owner, claimed.Tag, claimed.Attempt, claimed.MaxAttempts, ReportProgressAsync);
        var started = Stopwatch.GetTimestamp();
        WorkStatus status;
        JsonElement? output = null;
        string? error = null;
        var retryable = false;
        try
        {
            await using var scope = services.CreateAsyncScope();
            var worker = (IWorker)ActivatorUtilities.GetServiceOrCreateInstance(scope.ServiceProvider, catalog.Kinds[claimed.Kind]);
            var value = await worker.ExecuteAsync(item, running.Cancellation.Token);
            output = value is null ? null : JsonSerializer.SerializeToElement(value, value.GetType(), RuntimeJson.Options);
            status = WorkStatus.Succeeded;
        }
        catch (Exception ex) when (running.Cancellation.IsCancellationRequested)
        {
            switch (running.Reason)
            {
                case StopReason.Shutdown:
                    await ReleaseAsync(claimed);
                    return;
                case StopReason.LeaseLost:
                    logger.LogWarning("Work item {Id} ({Kind}) lost its lease; its result is discarded", claimed.Id, claimed.Kind);
                    return;
                default:
                    status = WorkStatus.Cancelled;
                    error = "cancelled";
                    logger.LogInformation(ex, "Work item {Id} ({Kind}) cancelled", claimed.Id, claimed.Kind);
                    break;
            }
        }
        catch (Exception ex)
        {
            status = WorkStatus.Failed;
            error = ex.Message;
            // Without a verdict from the worker, trouble reaching something is worth another try; anything else is not.
            retryable = ex is IWorkError workError ? workError.Retryable
                : ex.Data["retryable"] is bool verdict ? verdict
                : ex is TimeoutException or HttpRequestException or IOException;
            logger.LogWarning(ex, "Work item {Id} ({Kind}) failed on attempt {Attempt}", claimed.Id, claimed.Kind, claimed.Attempt);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        metrics.WorkCompleted(claimed.Kind, status.ToString().ToLowerInvariant(), elapsed);
        await CompleteAsync(claimed, status, output, error, retryable);
    }

    private async Task CompleteAsync(Claimed claimed, WorkStatus status, JsonElement? output, string? error, bool retryable)
    {
        var result = new WorkResult(claimed.Id, claimed.Kind, claimed.Tag, status, output, error, claimed.Attempt, retryable);
        var message = JsonSerializer.Serialize(new object[] { result }, RuntimeJson.Options);
        var statusText = status.ToString().ToLowerInvariant();
        // Retried on connection trouble: the item stays ours until its lease expires, and the statement is idempotent.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var command = dataSource.CreateCommand(
                    """
                    WITH done AS (
                        UPDATE runtime.work_items SET status = $2, result = $3, last_error = $4, finished_at = now(),
                               lease_owner = NULL, lease_expires_at = NULL
                        WHERE id = $1 AND lease_owner = $5 AND status = 'running'
                        RETURNING id, owner_type, owner_key, attempts),
                    attempt_row AS (
                        UPDATE runtime.work_attempts a SET finished_at = now(), outcome = $2, error = $4
                        FROM done WHERE a.item_id = done.id AND a.attempt = done.attempts),
                    sent AS (
                        INSERT INTO runtime.messages (grain_type, grain_key, method, args, sender)
                        SELECT owner_type, owner_key, '__work', $6, $5 FROM done
                        RETURNING 1)
                    SELECT pg_notify('ma_mailbox', '') FROM sent
                    """);
                command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = claimed.Id });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = statusText });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = output?.GetRawText() ?? (object)DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = error ?? (object)DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Id });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = message });
                await command.ExecuteNonQueryAsync();
                return;
            }
            catch (Exception ex) when (attempt < 5)
            {
                logger.LogWarning(ex, "Recording the result of work item {Id} failed; retrying", claimed.Id);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
            }
        }
    }

    private async Task ReleaseAsync(Claimed claimed)
    {
        try
        {
            await using var command = dataSource.CreateCommand(
                """
                WITH released AS (
                    UPDATE runtime.work_items SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                           attempts = attempts - 1, due_at = now()
                    WHERE id = $1 AND lease_owner = $2 AND status = 'running'
                    RETURNING id, attempts + 1 AS attempt, kind),
                dropped AS (
                    DELETE FROM runtime.work_attempts a USING released r WHERE a.item_id = r.id AND a.attempt = r.attempt)
                SELECT pg_notify('ma_work', kind) FROM released
                """);
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = claimed.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Id });
            await command.ExecuteNonQueryAsync();
            logger.LogInformation("Released work item {Id} ({Kind}) at shutdown", claimed.Id, claimed.Kind);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Releasing work item {Id} failed; its lease will expire", claimed.Id);
        }
    }

    private async Task ReportProgressAsync(WorkItem item, double fraction, string? note)
    {
        try
        {
            var progress = new WorkProgress(item.Id, item.Kind, item.Tag, fraction, note);
            await using var command = dataSource.CreateCommand(
                """
                WITH sent AS (
                    INSERT INTO runtime.messages (grain_type, grain_key, method, args, sender) VALUES ($1, $2, '__progress', $3, $4)
                    RETURNING 1)
                SELECT pg_notify('ma_mailbox', '') FROM sent
                """);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = item.Owner.Type });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = item.Owner.Key });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = JsonSerializer.Serialize(new object[] { progress }, RuntimeJson.Options) });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Id });
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception ex)
        {
            // Progress is advisory: losing one report must not fail the work.
            logger.LogDebug(ex, "Progress report for {Id} failed", item.Id);
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken stopping)
    {
        var interval = TimeSpan.FromTicks(Math.Max(_options.WorkLease.Ticks / 3, TimeSpan.FromMilliseconds(100).Ticks));
        while (!stopping.IsCancellationRequested)
        {
            await Task.Delay(interval, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await HeartbeatAsync();
        }
    }

    /// <summary>Extends the leases of running items; stops the ones that were cancelled or whose lease was lost.</summary>
    private async Task HeartbeatAsync()
    {
        var ids = _running.Keys.ToArray();
        if (ids.Length == 0)
        {
            return;
        }

        try
        {
            await using var command = dataSource.CreateCommand(
                """
                UPDATE runtime.work_items SET lease_expires_at = now() + $3 * interval '1 millisecond'
                WHERE id = ANY($1) AND lease_owner = $2 AND status = 'running'
                RETURNING id, cancel_requested
                """);
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Id });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)_options.WorkLease.TotalMilliseconds });
            var alive = new HashSet<Guid>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    alive.Add(reader.GetGuid(0));
                    if (reader.GetBoolean(1) && _running.TryGetValue(reader.GetGuid(0), out var cancelled))
                    {
                        cancelled.Stop(StopReason.Cancelled);
                    }
                }
            }

            foreach (var id in ids.Where(id => !alive.Contains(id)))
            {
                if (_running.TryGetValue(id, out var lost))
                {
                    lost.Stop(StopReason.LeaseLost);
                }
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Work lease heartbeat failed");
        }
    }

    private void OnCancelNotification(string payload)
    {
        if (Guid.TryParse(payload, out var id) && _running.TryGetValue(id, out var running))
        {
            running.Stop(StopReason.Cancelled);
        }
    }

    private sealed record Claimed(Guid Id, string Kind, JsonElement Payload, GrainId Owner, string? Tag, int Attempt, int MaxAttempts);

    private enum StopReason
    {
        None,
        Cancelled,
        LeaseLost,
        Shutdown,
    }

    private sealed class Running(Claimed item) : IDisposable
    {
        private int _reason;

        public Claimed Item { get; } = item;

        public CancellationTokenSource Cancellation { get; } = new();

        public Task Task { get; set; } = Task.CompletedTask;

        public StopReason Reason => (StopReason)Volatile.Read(ref _reason);

        public void Stop(StopReason reason)
        {
            if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)StopReason.None) == (int)StopReason.None)
            {
                try
                {
                    Cancellation.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        public void Dispose() => Cancellation.Dispose();
    }
}
