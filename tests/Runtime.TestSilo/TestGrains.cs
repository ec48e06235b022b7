using System.Collections.Concurrent;

namespace MediaActors.Runtime.TestSilo;

/// <summary>A counter whose increments are read-modify-write turns.</summary>
[GrainType("test-counter")]
public interface ICounterGrain : IGrain
{
    Task<long> Increment();

    [OneWay]
    Task Add(long amount);

    /// <summary>Adds after a pause inside the turn when the silo runs with SLOW_TURNS=1 (to be killed mid-turn).</summary>
    [OneWay]
    Task SlowAdd(long amount);

    Task<CounterState> Get();

    Task Fail(string reason);
}

public sealed class CounterState
{
    public long Count { get; set; }

    /// <summary>Added after rows were written without it: old rows read it as its default.</summary>
    public string Label { get; set; } = "unlabelled";

    public int Turns { get; set; }
}

public sealed class CounterGrain : Grain<CounterState>, ICounterGrain
{
    /// <summary>Grains currently in a turn, per key, across every silo of this process.</summary>
    public static readonly ConcurrentDictionary<string, int> InTurn = new();

    public static int OverlapViolations;

    public async Task<long> Increment()
    {
        Enter();
        try
        {
            var read = State.Count;
            await Task.Yield();
            State.Count = read + 1;
            State.Turns++;
            return State.Count;
        }
        finally
        {
            Leave();
        }
    }

    public Task Add(long amount)
    {
        State.Count += amount;
        State.Turns++;
        Context.Publish("added", new { amount, total = State.Count });
        return Task.CompletedTask;
    }

    public async Task SlowAdd(long amount)
    {
        if (Environment.GetEnvironmentVariable("SLOW_TURNS") == "1")
        {
            Console.WriteLine($"TURN-STARTED {Key}");
            await Task.Delay(TimeSpan.FromMinutes(5));
        }

        await Add(amount);
    }

    public Task<CounterState> Get() => Task.FromResult(State);

    public Task Fail(string reason)
    {
        State.Count = -1_000_000;
        throw new InvalidOperationException(reason);
    }

    private void Enter()
    {
        if (InTurn.AddOrUpdate(Key, 1, (_, n) => n + 1) > 1)
        {
            Interlocked.Increment(ref OverlapViolations);
        }
    }

    private void Leave() => InTurn.AddOrUpdate(Key, 0, (_, n) => n - 1);
}

/// <summary>Records reminder firings.</summary>
[GrainType("test-reminders")]
public interface IReminderGrain : IGrain
{
    Task Schedule(string name, int dueMs, int? periodMs);

    Task Cancel(string name);

    Task<ReminderLog> Log();
}

public sealed class ReminderLog
{
    public List<ReminderEntry> Scheduled { get; set; } = [];

    public List<ReminderEntry> Fired { get; set; } = [];
}

public sealed record ReminderEntry(string Name, DateTimeOffset At);

public sealed class ReminderGrain : Grain<ReminderLog>, IReminderGrain
{
    public Task Schedule(string name, int dueMs, int? periodMs)
    {
        Context.SetReminder(name, TimeSpan.FromMilliseconds(dueMs), periodMs is { } p ? TimeSpan.FromMilliseconds(p) : null);
        State.Scheduled.Add(new ReminderEntry(name, Context.Now.AddMilliseconds(dueMs)));
        return Task.CompletedTask;
    }

    public Task Cancel(string name)
    {
        Context.ClearReminder(name);
        return Task.CompletedTask;
    }

    public Task<ReminderLog> Log() => Task.FromResult(State);

    public override Task OnReminder(string name)
    {
        State.Fired.Add(new ReminderEntry(name, Context.Now));
        Context.Publish("reminder", new { name });
        return Task.CompletedTask;
    }
}

/// <summary>Starts work items and records their results.</summary>
[GrainType("test-job")]
public interface IJobGrain : IGrain
{
    Task<Guid> Start(string kind, string input, int maxAttempts);

    [OneWay]
    Task Enqueue(string kind, string input);

    Task CancelRunning();

    Task<JobState> Status();
}

public sealed class JobState
{
    public Guid? ItemId { get; set; }

    public List<WorkResult> Results { get; set; } = [];

    public List<double> Progress { get; set; } = [];
}

public sealed class JobGrain : Grain<JobState>, IJobGrain
{
    public Task<Guid> Start(string kind, string input, int maxAttempts)
    {
        State.ItemId = Context.StartWork(kind, new EchoInput(input), tag: "job", maxAttempts: maxAttempts);
        return Task.FromResult(State.ItemId.Value);
    }

    public Task Enqueue(string kind, string input) => Start(kind, input, 1);

    public Task CancelRunning()
    {
        if (State.ItemId is { } id)
        {
            Context.CancelWork(id);
        }

        return Task.CompletedTask;
    }

    public Task<JobState> Status() => Task.FromResult(State);

    public override Task OnWorkCompleted(WorkResult result)
    {
        State.Results.Add(result);
        Context.Publish("work-completed", result);
        return Task.CompletedTask;
    }

    public override Task OnWorkProgress(WorkProgress progress)
    {
        State.Progress.Add(progress.Fraction);
        return Task.CompletedTask;
    }
}

public sealed record EchoInput(string Text);

public sealed record EchoOutput(string Upper, string Silo);

/// <summary>
/// Upper-cases its input; hangs (until cancelled) on a silo started with HANG_WORK=1; "fail" fails; "sleep:N" takes N ms
/// whether cancelled or not (work that finishes what it started).
/// </summary>
public sealed class EchoWorker(SiloIdentity silo) : Worker<EchoInput, EchoOutput>
{
    protected override async Task<EchoOutput> ExecuteAsync(EchoInput payload, WorkItem item, CancellationToken cancellationToken)
    {
        Console.WriteLine($"WORK-STARTED {item.Id}");
        await item.ReportProgressAsync(0.5);
        if (Environment.GetEnvironmentVariable("HANG_WORK") == "1" || payload.Text == "hang")
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (payload.Text.StartsWith("sleep:", StringComparison.Ordinal))
        {
            await Task.Delay(int.Parse(payload.Text["sleep:".Length..], System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None);
        }

        if (payload.Text == "fail")
        {
            throw new InvalidOperationException("the input asked to fail");
        }

        await item.ReportProgressAsync(1.0);
        return new EchoOutput(payload.Text.ToUpperInvariant(), silo.Name);
    }
}

/// <summary>Publishes numbered events.</summary>
[GrainType("test-events")]
public interface IEventGrain : IGrain
{
    Task Emit(int count);
}

public sealed class EventGrain : Grain<CounterState>, IEventGrain
{
    public Task Emit(int count)
    {
        for (var i = 0; i < count; i++)
        {
            State.Count++;
            Context.Publish("tick", new { n = State.Count });
        }

        return Task.CompletedTask;
    }
}

/// <summary>Keeps the numbers it is sent, in the order it handled them; a number can be made to fail its first turns.</summary>
[GrainType("test-order")]
public interface IOrderGrain : IGrain
{
    /// <summary>Appends <paramref name="number"/>; the first <paramref name="failures"/> turns of this message throw.</summary>
    [OneWay]
    Task Append(int number, int failures);

    Task<List<int>> Numbers();
}

public sealed class OrderState
{
    public List<int> Numbers { get; set; } = [];
}

public sealed class OrderGrain : Grain<OrderState>, IOrderGrain
{
    // Failed turns leave no state behind, so the failures so far are counted outside it (per grain and number, in this process).
    private static readonly ConcurrentDictionary<string, int> Failed = new();

    public Task Append(int number, int failures)
    {
        State.Numbers.Add(number);
        if (Failed.AddOrUpdate($"{Key}/{number}", 1, (_, n) => n + 1) <= failures)
        {
            throw new InvalidOperationException($"{number} fails this time");
        }

        return Task.CompletedTask;
    }

    public Task<List<int>> Numbers() => Task.FromResult(State.Numbers);
}

/// <summary>Registers every test grain and worker on a silo.</summary>
public static class TestGrainRegistration
{
    public static SiloBuilder AddTestGrains(this SiloBuilder silo) => silo
        .AddGrain<ICounterGrain, CounterGrain>()
        .AddGrain<IReminderGrain, ReminderGrain>()
        .AddGrain<IJobGrain, JobGrain>()
        .AddGrain<IEventGrain, EventGrain>()
        .AddGrain<IOrderGrain, OrderGrain>()
        .AddWorker<EchoWorker>("echo");
}
