namespace MediaActors.Runtime.Bench;

/// <summary>The benchmark's grain: a one-way tick that bumps a counter, and a request that reads it.</summary>
[GrainType("bench-noop")]
public interface INoopGrain : IGrain
{
    [OneWay]
    Task Tick();

    Task<int> Ping();
}

public sealed class NoopState
{
    public long Count { get; set; }
}

public sealed class NoopGrain : Grain<NoopState>, INoopGrain
{
    public Task Tick()
    {
        State.Count++;
        return Task.CompletedTask;
    }

    public Task<int> Ping() => Task.FromResult((int)State.Count);
}
