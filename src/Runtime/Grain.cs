using System.Text.Json;

namespace MediaActors.Runtime;

/// <summary>What a grain can do during a turn; everything it records commits with the turn, or not at all.</summary>
public interface IGrainContext
{
    /// <summary>This grain's address.</summary>
    GrainId Id { get; }

    /// <summary>The time of this turn.</summary>
    DateTimeOffset Now { get; }

    /// <summary>References for one-way calls to other grains (sent when the turn commits; replies cannot be awaited in a turn).</summary>
    IGrainFactory Grains { get; }

    /// <summary>Queues work for a stateless worker of <paramref name="kind"/>; its result comes back through <see cref="Grain.OnWorkCompleted"/>.</summary>
    Guid StartWork(string kind, object payload, string? tag = null, int maxAttempts = 3, TimeSpan? delay = null);

    /// <summary>Cancels a pending or running work item of this grain.</summary>
    void CancelWork(Guid itemId);

    /// <summary>Sets (or moves) a durable reminder; it arrives through <see cref="Grain.OnReminder"/>.</summary>
    void SetReminder(string name, TimeSpan dueIn, TimeSpan? period = null);

    /// <summary>Removes a reminder if it exists.</summary>
    void ClearReminder(string name);

    /// <summary>Publishes an event with this grain's next sequence number.</summary>
    void Publish(string kind, object payload);

    /// <summary>Runs a SQL command (a read-model write) in the turn's transaction; parameters are $1, $2, ...</summary>
    void Execute(string sql, params object?[] parameters);
}

/// <summary>The base of every grain class: identity, context and the runtime's callbacks.</summary>
public abstract class Grain
{
    private IGrainContext? _context;

    /// <summary>This grain's address.</summary>
    public GrainId Id => Context.Id;

    /// <summary>This grain's key.</summary>
    protected string Key => Context.Id.Key;

    /// <summary>The current turn's context.</summary>
    protected IGrainContext Context => _context ?? throw new InvalidOperationException("The grain is not in a turn.");

    /// <summary>A reminder set with <see cref="IGrainContext.SetReminder"/> fired.</summary>
    public virtual Task OnReminder(string name) => Task.CompletedTask;

    /// <summary>A work item this grain started ended (succeeded, failed or cancelled).</summary>
    public virtual Task OnWorkCompleted(WorkResult result) => Task.CompletedTask;

    /// <summary>A work item this grain started reported progress.</summary>
    public virtual Task OnWorkProgress(WorkProgress progress) => Task.CompletedTask;

    internal void Attach(IGrainContext context) => _context = context;

    internal abstract Type StateType { get; }

    internal abstract object StateObject { get; set; }
}

/// <summary>A grain with persistent state <typeparamref name="TState"/>; the state is saved when the turn commits.</summary>
public abstract class Grain<TState> : Grain where TState : class, new()
{
    /// <summary>The grain's state; a type can gain properties without breaking stored rows.</summary>
    protected TState State { get; set; } = new();

    internal override Type StateType => typeof(TState);

    internal override object StateObject
    {
        get => State;
        set => State = (TState)value;
    }
}

/// <summary>Reserved message names for the runtime's own callbacks.</summary>
internal static class SystemMethods
{
    public const string Reminder = "__reminder";
    public const string WorkCompleted = "__work";
    public const string WorkProgress = "__progress";
}

/// <summary>Everything a turn recorded; merged into the batch only if the turn succeeds.</summary>
internal sealed class TurnOutbox
{
    public List<(GrainId Target, string Method, string Args)> Messages { get; } = [];

    public List<WorkItemRecord> Work { get; } = [];

    public List<Guid> Cancels { get; } = [];

    public Dictionary<string, (DateTimeOffset DueAt, TimeSpan? Period)?> Reminders { get; } = new(StringComparer.Ordinal);

    public List<(string Kind, string Payload)> Events { get; } = [];

    public List<(string Sql, object?[] Parameters)> Commands { get; } = [];
}

internal sealed record WorkItemRecord(Guid Id, string Kind, string Payload, GrainId Owner, string? Tag, int MaxAttempts, TimeSpan Delay);

/// <summary>The context of one turn; calls to other grains through it go to the outbox.</summary>
internal sealed class TurnContext(GrainId id, DateTimeOffset now, TurnOutbox outbox) : IGrainContext, IGrainFactory, ICallSink
{
    public GrainId Id { get; } = id;

    public DateTimeOffset Now { get; } = now;

    public IGrainFactory Grains => this;

    public T GetGrain<T>(string key) where T : IGrain => GrainProxy.Create<T>(this, key);

    public Task<JsonElement?> CallAsync(GrainId target, GrainMethod method, System.Text.Json.Nodes.JsonArray args)
    {
        if (method.ResultType is not null)
        {
            throw new InvalidOperationException($"{method.Name} returns a value: a grain cannot await another grain inside a turn. Send a one-way call and let the other grain call back.");
        }

        outbox.Messages.Add((target, method.Name, args.ToJsonString(RuntimeJson.Options)));
        return Task.FromResult<JsonElement?>(null);
    }

    public Guid StartWork(string kind, object payload, string? tag = null, int maxAttempts = 3, TimeSpan? delay = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        var itemId = Guid.CreateVersion7();
        outbox.Work.Add(new WorkItemRecord(itemId, kind, JsonSerializer.Serialize(payload, payload.GetType(), RuntimeJson.Options), Id, tag, maxAttempts, delay ?? TimeSpan.Zero));
        return itemId;
    }

    public void CancelWork(Guid itemId) => outbox.Cancels.Add(itemId);

    public void SetReminder(string name, TimeSpan dueIn, TimeSpan? period = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (period is { } p && p < TimeSpan.FromMilliseconds(100))
        {
            throw new ArgumentOutOfRangeException(nameof(period), "A reminder period must be at least 100 ms.");
        }

        // The due time is taken from the turn's clock, so the grain knows exactly when it is due.
        outbox.Reminders[name] = (Now + (dueIn < TimeSpan.Zero ? TimeSpan.Zero : dueIn), period);
    }

    public void ClearReminder(string name) => outbox.Reminders[name] = null;

    public void Publish(string kind, object payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        outbox.Events.Add((kind, JsonSerializer.Serialize(payload, payload.GetType(), RuntimeJson.Options)));
    }

    public void Execute(string sql, params object?[] parameters) => outbox.Commands.Add((sql, parameters));
}
