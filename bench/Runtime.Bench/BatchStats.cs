using System.Diagnostics.Metrics;

namespace MediaActors.Runtime.Bench;

/// <summary>Listens to the runtime's meter: how many turn batches committed, how many messages they carried, how long they took.</summary>
public sealed class BatchStats : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private long _batches;
    private double _batchMilliseconds;
    private long _messages;
    private long _target = long.MaxValue;
    private TaskCompletionSource? _reached;

    public BatchStats()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RuntimeMetrics.MeterName
                && instrument.Name is "mediaactors.runtime.batch.duration" or "mediaactors.runtime.messages")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (_gate)
            {
                _batches++;
                _batchMilliseconds += value;
            }
        });
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            if (Interlocked.Add(ref _messages, value) >= Volatile.Read(ref _target))
            {
                Volatile.Read(ref _reached)?.TrySetResult();
            }
        });
        _listener.Start();
    }

    public void Reset()
    {
        lock (_gate)
        {
            _batches = 0;
            _batchMilliseconds = 0;
            Volatile.Write(ref _target, long.MaxValue);
            Volatile.Write(ref _reached, null);
            Interlocked.Exchange(ref _messages, 0);
        }
    }

    /// <summary>
    /// Completes once committed batches acknowledged <paramref name="target"/> messages since the last reset:
    /// the in-process signal that ends a measurement, so that no polling query competes with the silos.
    /// </summary>
    public Task WaitForMessagesAsync(long target, TimeSpan timeout)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _reached, reached);
        Volatile.Write(ref _target, target);
        if (Interlocked.Read(ref _messages) >= target)
        {
            reached.TrySetResult();
        }

        return reached.Task.WaitAsync(timeout);
    }

    /// <summary>Batches, mean messages per batch, mean batch time (load, turns, write, commit; the lock query is not included).</summary>
    public (long Batches, double MessagesPerBatch, double MillisecondsPerBatch) Snapshot()
    {
        lock (_gate)
        {
            var messages = Interlocked.Read(ref _messages);
            return _batches == 0 ? (0, 0, 0) : (_batches, (double)messages / _batches, _batchMilliseconds / _batches);
        }
    }

    public void Dispose() => _listener.Dispose();
}
