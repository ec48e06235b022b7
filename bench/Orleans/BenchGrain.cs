using System.Diagnostics;
using MediaActors.Grains.Projects;

namespace MediaActors.Orleans.Bench;

/// <summary>The unit of durable work measured: a call that changes the grain's state and returns once it is written.</summary>
[Alias("MediaActors.Orleans.Bench.IBenchGrain")]
public interface IBenchGrain : IGrainWithStringKey
{
    /// <summary>Records <paramref name="value"/> in the state and awaits WriteStateAsync; answers how long the write took, in ticks.</summary>
    [Alias("Record")]
    Task<long> Record(int value);

    /// <summary>The same round trip with no state written: the reference for what Orleans itself costs.</summary>
    [Alias("Ping")]
    Task<int> Ping(int value);
}

/// <summary>State in the production storage (<see cref="StorageNames.Projects"/>, JSON).</summary>
[Alias("MediaActors.Orleans.Bench.IJsonBenchGrain")]
public interface IJsonBenchGrain : IBenchGrain;

/// <summary>State in a second ADO.NET storage with Orleans' binary serializer: what the JSON serializer costs.</summary>
[Alias("MediaActors.Orleans.Bench.IBinaryBenchGrain")]
public interface IBinaryBenchGrain : IBenchGrain;

/// <summary>A few bytes, like a small grain state; public properties so that the JSON serializer writes them.</summary>
[GenerateSerializer]
[Alias("MediaActors.Orleans.Bench.BenchState")]
public sealed class BenchState
{
    [Id(0)]
    public long Calls { get; set; }

    [Id(1)]
    public int LastValue { get; set; }

    [Id(2)]
    public DateTimeOffset LastAt { get; set; }
}

public abstract class BenchGrain(IPersistentState<BenchState> state) : Grain, IBenchGrain
{
    public async Task<long> Record(int value)
    {
        state.State.Calls++;
        state.State.LastValue = value;
        state.State.LastAt = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        await state.WriteStateAsync();
        return Stopwatch.GetElapsedTime(started).Ticks;
    }

    public Task<int> Ping(int value) => Task.FromResult(value);
}

// Own state names: the storage rows are keyed by state name and grain key, so they never meet a project's rows.
public sealed class JsonBenchGrain([PersistentState(JsonBenchGrain.StateName, StorageNames.Projects)] IPersistentState<BenchState> state)
    : BenchGrain(state), IJsonBenchGrain
{
    public const string StateName = "bench-json";
}

public sealed class BinaryBenchGrain([PersistentState(BinaryBenchGrain.StateName, BinaryBenchGrain.StorageName)] IPersistentState<BenchState> state)
    : BenchGrain(state), IBinaryBenchGrain
{
    public const string StateName = "bench-binary";
    public const string StorageName = "bench-binary";
}
