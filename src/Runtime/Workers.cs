using System.Text.Json;

namespace MediaActors.Runtime;

/// <summary>A stateless worker for one kind of work; it runs outside any transaction and must be idempotent.</summary>
public interface IWorker
{
    /// <summary>Runs the item; the returned value is the item's output. Throw to fail the item.</summary>
    Task<object?> ExecuteAsync(WorkItem item, CancellationToken cancellationToken);
}

/// <summary>A worker with a typed payload and output.</summary>
public abstract class Worker<TPayload, TOutput> : IWorker
{
    public async Task<object?> ExecuteAsync(WorkItem item, CancellationToken cancellationToken) =>
        await ExecuteAsync(item.PayloadAs<TPayload>(), item, cancellationToken);

    protected abstract Task<TOutput> ExecuteAsync(TPayload payload, WorkItem item, CancellationToken cancellationToken);
}

/// <summary>One claimed work item, as a worker sees it.</summary>
public sealed class WorkItem(Guid id, string kind, JsonElement payload, GrainId owner, string? tag, int attempt, int maxAttempts, Func<WorkItem, double, string?, Task> reportProgress)
{
    private long _lastReport;
    private string? _lastNote;

    public Guid Id { get; } = id;

    public string Kind { get; } = kind;

    public JsonElement Payload { get; } = payload;

    /// <summary>The grain that started the item and receives its result.</summary>
    public GrainId Owner { get; } = owner;

    public string? Tag { get; } = tag;

    /// <summary>1 for the first attempt.</summary>
    public int Attempt { get; } = attempt;

    public int MaxAttempts { get; } = maxAttempts;

    public T PayloadAs<T>() => Payload.Deserialize<T>(RuntimeJson.Options)!;

    /// <summary>Sends progress (0..1) to the owning grain, at most twice a second; the final 1.0 and a new note always go.</summary>
    public Task ReportProgressAsync(double fraction, string? note = null)
    {
        var now = Environment.TickCount64;
        var newNote = note is not null && note != Volatile.Read(ref _lastNote);
        if (fraction < 1 && !newNote && now - Interlocked.Read(ref _lastReport) < 500)
        {
            return Task.CompletedTask;
        }

        Interlocked.Exchange(ref _lastReport, now);
        if (note is not null)
        {
            Volatile.Write(ref _lastNote, note);
        }

        return reportProgress(this, Math.Clamp(fraction, 0, 1), note);
    }
}

/// <summary>The worker types a silo runs, by kind.</summary>
public sealed class WorkerCatalog
{
    private readonly Dictionary<string, Type> _byKind = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, Type> Kinds => _byKind;

    public void Add(string kind, Type workerType)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        if (!typeof(IWorker).IsAssignableFrom(workerType))
        {
            throw new InvalidOperationException($"{workerType.Name} does not implement IWorker.");
        }

        _byKind[kind] = workerType;
    }
}
