using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MediaActors.Runtime;

/// <summary>Marker for grain interfaces: grains are addressed by interface and string key.</summary>
public interface IGrain;

/// <summary>Names a grain interface's type in the database; keep it stable once data exists.</summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    /// <summary>The stable grain type name.</summary>
    public string Name { get; } = name;
}

/// <summary>A call to this method returns once the message is durably queued; the caller does not wait for the turn.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OneWayAttribute : Attribute;

/// <summary>The address of a grain: its type name and key.</summary>
public readonly record struct GrainId(string Type, string Key)
{
    /// <summary>The id of the grain behind interface <typeparamref name="T"/> with this key.</summary>
    public static GrainId For<T>(string key) where T : IGrain => new(GrainTypeName.Of(typeof(T)), key);

    public override string ToString() => $"{Type}/{Key}";
}

/// <summary>Derives the stable type name of a grain interface.</summary>
public static class GrainTypeName
{
    public static string Of(Type grainInterface)
    {
        var attribute = grainInterface.GetCustomAttribute<GrainTypeAttribute>();
        if (attribute is not null)
        {
            return attribute.Name;
        }

        var name = grainInterface.Name;
        return name.Length > 1 && name[0] == 'I' && char.IsUpper(name[1]) ? name[1..] : name;
    }
}

/// <summary>An event a grain published, with its per-grain sequence number.</summary>
public sealed record GrainEvent(long Id, string GrainType, string GrainKey, long Seq, string Kind, JsonElement Payload, DateTimeOffset CreatedAt);

/// <summary>The outcome of a work item, delivered to the grain that started it. Retryable says whether trying again may succeed.</summary>
public sealed record WorkResult(Guid ItemId, string Kind, string? Tag, WorkStatus Status, JsonElement? Output, string? Error, int Attempts, bool Retryable = false)
{
    /// <summary>Reads the output as <typeparamref name="T"/>.</summary>
    public T? OutputAs<T>() => Output is { } output ? output.Deserialize<T>(RuntimeJson.Options) : default;
}

/// <summary>The lifecycle of a work item.</summary>
public enum WorkStatus
{
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>An exception a worker throws to say whether its failure is worth retrying (network trouble) or not (bad input).</summary>
public interface IWorkError
{
    bool Retryable { get; }
}

/// <summary>Progress reported by a running work item.</summary>
public sealed record WorkProgress(Guid ItemId, string Kind, string? Tag, double Fraction, string? Note);

/// <summary>A grain method threw; the message carries the grain's error text.</summary>
public sealed class GrainCallException(string message) : Exception(message);

/// <summary>The JSON settings of every serialized message, state, event and work payload.</summary>
public static class RuntimeJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
