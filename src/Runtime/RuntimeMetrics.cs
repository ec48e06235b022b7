using System.Diagnostics.Metrics;

namespace MediaActors.Runtime;

/// <summary>The runtime's metrics (meter "MediaActors.Runtime"), plus running totals for the dashboard.</summary>
public sealed class RuntimeMetrics : IDisposable
{
    public const string MeterName = "MediaActors.Runtime";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _messages;
    private readonly Histogram<double> _turnDuration;
    private readonly Histogram<double> _batchDuration;
    private readonly Counter<long> _turnFailures;
    private readonly Histogram<double> _workDuration;
    private readonly Counter<long> _workCompleted;
    private long _messagesTotal;
    private long _workTotal;
    private long _workFailures;

    public RuntimeMetrics()
    {
        _messages = _meter.CreateCounter<long>("mediaactors.runtime.messages", "{message}", "Messages processed by grain turns");
        _turnDuration = _meter.CreateHistogram<double>("mediaactors.runtime.turn.duration", "ms", "Duration of one grain turn");
        _batchDuration = _meter.CreateHistogram<double>("mediaactors.runtime.batch.duration", "ms", "Duration of a turn batch, from lock to commit");
        _turnFailures = _meter.CreateCounter<long>("mediaactors.runtime.turn.failures", "{turn}", "Grain turns that threw");
        _workDuration = _meter.CreateHistogram<double>("mediaactors.runtime.work.duration", "ms", "Duration of a work item attempt");
        _workCompleted = _meter.CreateCounter<long>("mediaactors.runtime.work.completed", "{item}", "Work item attempts by kind and outcome");
        _meter.CreateObservableGauge("mediaactors.runtime.mailbox.depth", () => MailboxDepth, "{message}", "Messages waiting in all mailboxes (sampled)");
    }

    /// <summary>The last sampled number of pending messages.</summary>
    public long MailboxDepth { get; set; }

    public long MessagesTotal => Interlocked.Read(ref _messagesTotal);

    public long WorkTotal => Interlocked.Read(ref _workTotal);

    public long WorkFailures => Interlocked.Read(ref _workFailures);

    public void TurnCompleted(string grainType, TimeSpan duration, bool failed)
    {
        var tag = new KeyValuePair<string, object?>("grain.type", grainType);
        _turnDuration.Record(duration.TotalMilliseconds, tag);
        if (failed)
        {
            _turnFailures.Add(1, tag);
        }
    }

    public void BatchCommitted(int messages, TimeSpan duration)
    {
        _messages.Add(messages);
        Interlocked.Add(ref _messagesTotal, messages);
        _batchDuration.Record(duration.TotalMilliseconds);
    }

    public void WorkCompleted(string kind, string outcome, TimeSpan duration)
    {
        var tags = new[] { new KeyValuePair<string, object?>("work.kind", kind), new KeyValuePair<string, object?>("work.outcome", outcome) };
        _workDuration.Record(duration.TotalMilliseconds, tags);
        _workCompleted.Add(1, tags);
        Interlocked.Increment(ref _workTotal);
        if (outcome != "succeeded")
        {
            Interlocked.Increment(ref _workFailures);
        }
    }

    public void Dispose() => _meter.Dispose();
}
