using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MediaActors.Runtime;

/// <summary>What the runtime knows of one grain interface method: how to encode a call and decode its result.</summary>
public sealed class GrainMethod
{
    private static readonly MethodInfo ConvertResultMethod = typeof(GrainMethod).GetMethod(nameof(ConvertResult), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo AwaitResultMethod = typeof(GrainMethod).GetMethod(nameof(AwaitResult), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly Func<Task<JsonElement?>, object>? _convertResult;
    private readonly Func<object, Task<object?>>? _awaitResult;

    private GrainMethod(MethodInfo method)
    {
        Method = method;
        Name = method.Name;
        Parameters = method.GetParameters();
        IsOneWay = method.GetCustomAttribute<OneWayAttribute>() is not null;
        if (method.ReturnType == typeof(Task))
        {
            ResultType = null;
        }
        else if (method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            ResultType = method.ReturnType.GetGenericArguments()[0];
            _convertResult = ConvertResultMethod.MakeGenericMethod(ResultType).CreateDelegate<Func<Task<JsonElement?>, object>>();
            _awaitResult = AwaitResultMethod.MakeGenericMethod(ResultType).CreateDelegate<Func<object, Task<object?>>>();
        }
        else
        {
            throw new InvalidOperationException($"Grain method {method.DeclaringType?.Name}.{method.Name} must return Task or Task<T>.");
        }

        if (IsOneWay && ResultType is not null)
        {
            throw new InvalidOperationException($"One-way grain method {method.DeclaringType?.Name}.{method.Name} must return Task.");
        }
    }

    public MethodInfo Method { get; }

    public string Name { get; }

    public ParameterInfo[] Parameters { get; }

    public bool IsOneWay { get; }

    /// <summary>The T of Task&lt;T&gt;, or null for Task.</summary>
    public Type? ResultType { get; }

    public JsonArray EncodeArguments(object?[]? args)
    {
        var array = new JsonArray();
        for (var i = 0; i < Parameters.Length; i++)
        {
            array.Add(JsonSerializer.SerializeToNode(args?[i], Parameters[i].ParameterType, RuntimeJson.Options));
        }

        return array;
    }

    public object?[] DecodeArguments(JsonElement args)
    {
        var values = new object?[Parameters.Length];
        var count = args.ValueKind == JsonValueKind.Array ? args.GetArrayLength() : 0;
        for (var i = 0; i < Parameters.Length; i++)
        {
            // A call recorded before a parameter was added gets that parameter's default value.
            values[i] = i < count
                ? args[i].Deserialize(Parameters[i].ParameterType, RuntimeJson.Options)
                : Parameters[i].HasDefaultValue ? Parameters[i].DefaultValue : null;
        }

        return values;
    }

    /// <summary>Turns the raw reply of a call into the Task the interface method returns.</summary>
    public object ToReturnTask(Task<JsonElement?> reply) => _convertResult is null ? reply : _convertResult(reply);

    /// <summary>Awaits the Task a grain method returned and encodes its result.</summary>
    public async Task<JsonElement?> InvokeAsync(object grain, object?[] args)
    {
        var task = (Task)Method.Invoke(grain, BindingFlags.DoNotWrapExceptions, null, args, null)!;
        if (_awaitResult is null)
        {
            await task;
            return null;
        }

        var value = await _awaitResult(task);
        return JsonSerializer.SerializeToElement(value, ResultType!, RuntimeJson.Options);
    }

    private static async Task<T> ConvertResult<T>(Task<JsonElement?> reply)
    {
        var element = await reply;
        return element is { } value ? value.Deserialize<T>(RuntimeJson.Options)! : default!;
    }

    private static async Task<object?> AwaitResult<T>(object task) => await (Task<T>)task;

    private static readonly ConcurrentDictionary<MethodInfo, GrainMethod> Cache = new();

    public static GrainMethod For(MethodInfo method) => Cache.GetOrAdd(method, m => new GrainMethod(m));
}

/// <summary>The methods of a grain interface, by name.</summary>
public sealed class GrainInterface
{
    private static readonly ConcurrentDictionary<Type, GrainInterface> Cache = new();

    private GrainInterface(Type type)
    {
        if (!type.IsInterface || !typeof(IGrain).IsAssignableFrom(type))
        {
            throw new InvalidOperationException($"{type.Name} is not a grain interface (an interface deriving from IGrain).");
        }

        Type = type;
        TypeName = GrainTypeName.Of(type);
        var methods = new[] { type }.Concat(type.GetInterfaces())
            .SelectMany(i => i.GetMethods())
            .Select(GrainMethod.For)
            .ToList();
        var duplicate = methods.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Grain interface {type.Name} overloads {duplicate.Key}: messages name methods, so names must be unique.");
        }

        Methods = methods.ToDictionary(m => m.Name, StringComparer.Ordinal);
    }

    public Type Type { get; }

    public string TypeName { get; }

    public IReadOnlyDictionary<string, GrainMethod> Methods { get; }

    public static GrainInterface For(Type type) => Cache.GetOrAdd(type, t => new GrainInterface(t));
}
