using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MediaActors.Runtime;

/// <summary>Where a proxy's calls go: the database (clients) or the current turn's outbox (grains).</summary>
public interface ICallSink
{
    /// <summary>Queues a call; for a request, completes with the grain's reply.</summary>
    Task<JsonElement?> CallAsync(GrainId target, GrainMethod method, JsonArray args);
}

/// <summary>Creates references to grains.</summary>
public interface IGrainFactory
{
    /// <summary>A reference to the grain behind <typeparamref name="T"/> with <paramref name="key"/>; it always exists.</summary>
    T GetGrain<T>(string key) where T : IGrain;
}

/// <summary>The dynamic implementation of a grain interface: each method call becomes a message.</summary>
public class GrainProxy : DispatchProxy
{
    private ICallSink _sink = null!;
    private GrainId _id;

    public static T Create<T>(ICallSink sink, string key) where T : IGrain
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var grainInterface = GrainInterface.For(typeof(T));
        var proxy = Create<T, GrainProxy>();
        var self = (GrainProxy)(object)proxy;
        self._sink = sink;
        self._id = new GrainId(grainInterface.TypeName, key);
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var method = GrainMethod.For(targetMethod);
        return method.ToReturnTask(_sink.CallAsync(_id, method, method.EncodeArguments(args)));
    }
}
