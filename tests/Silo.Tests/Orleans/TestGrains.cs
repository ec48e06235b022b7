using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace MediaActors.Silo.Tests.OrleansSchema;

/// <summary>Answers with the address of the silo it is activated on.</summary>
[Alias("MediaActors.Silo.Tests.IWhereGrain")]
public interface IWhereGrain : IGrainWithStringKey
{
    [Alias("Where")]
    Task<string> Where();
}

public sealed class WhereGrain(ILocalSiloDetails silo) : Grain, IWhereGrain
{
    public Task<string> Where() => Task.FromResult(silo.SiloAddress.ToParsableString());
}

[GenerateSerializer]
[Alias("MediaActors.Silo.Tests.CounterState")]
public sealed class CounterState
{
    [Id(0)]
    public int Value { get; set; }

    [Id(1)]
    public string? Note { get; set; }
}

/// <summary>A counter persisted through the ADO.NET grain storage; implemented for Guid and string keys.</summary>
[Alias("MediaActors.Silo.Tests.ICounterGrain")]
public interface ICounterGrain : IGrain
{
    [Alias("Add")]
    Task<int> Add(int amount, string note);

    [Alias("Get")]
    Task<CounterState> Get();

    [Alias("Deactivate")]
    Task Deactivate();
}

[Alias("MediaActors.Silo.Tests.IGuidCounterGrain")]
public interface IGuidCounterGrain : ICounterGrain, IGrainWithGuidKey;

[Alias("MediaActors.Silo.Tests.IStringCounterGrain")]
public interface IStringCounterGrain : ICounterGrain, IGrainWithStringKey;

public abstract class CounterGrain(IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    public async Task<int> Add(int amount, string note)
    {
        state.State.Value += amount;
        state.State.Note = note;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public Task<CounterState> Get() => Task.FromResult(state.State);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public sealed class GuidCounterGrain([PersistentState("guid-counter", TestSilo.StorageName)] IPersistentState<CounterState> state)
    : CounterGrain(state), IGuidCounterGrain;

public sealed class StringCounterGrain([PersistentState("string-counter", TestSilo.StorageName)] IPersistentState<CounterState> state)
    : CounterGrain(state), IStringCounterGrain;

/// <summary>Registers a persistent reminder and records each tick in the test_reminder_ticks table.</summary>
[Alias("MediaActors.Silo.Tests.ITickingGrain")]
public interface ITickingGrain : IGrainWithStringKey
{
    [Alias("Start")]
    Task Start(TimeSpan dueTime, TimeSpan period);

    [Alias("Stop")]
    Task Stop();
}

public sealed class TickingGrain(TickLog log) : Grain, ITickingGrain, IRemindable
{
    public const string ReminderName = "tick";

    public Task Start(TimeSpan dueTime, TimeSpan period) => this.RegisterOrUpdateReminder(ReminderName, dueTime, period);

    public async Task Stop()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => log.RecordAsync(this.GetPrimaryKeyString(), reminderName);
}

/// <summary>Where reminder ticks become observable: one row per tick, labelled with the silo that ran it.</summary>
public sealed class TickLog(string connectionString, string label)
{
    public const string CreateTableSql =
        "CREATE TABLE IF NOT EXISTS test_reminder_ticks (grain text NOT NULL, reminder text NOT NULL, label text NOT NULL, at timestamptz NOT NULL DEFAULT now())";

    public async Task RecordAsync(string grain, string reminder)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("INSERT INTO test_reminder_ticks (grain, reminder, label) VALUES ($1, $2, $3)", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grain });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reminder });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = label });
        await command.ExecuteNonQueryAsync();
    }
}
