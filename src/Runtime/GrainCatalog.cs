using Microsoft.Extensions.DependencyInjection;

namespace MediaActors.Runtime;

/// <summary>The grain classes a silo hosts, by grain type name.</summary>
public sealed class GrainCatalog
{
    private readonly Dictionary<string, GrainRegistration> _byType = new(StringComparer.Ordinal);

    public IReadOnlyCollection<GrainRegistration> Registrations => _byType.Values;

    public string[] TypeNames => [.. _byType.Keys];

    public void Add(Type grainInterface, Type grainClass)
    {
        var info = GrainInterface.For(grainInterface);
        if (!grainInterface.IsAssignableFrom(grainClass) || !typeof(Grain).IsAssignableFrom(grainClass) || grainClass.IsAbstract)
        {
            throw new InvalidOperationException($"{grainClass.Name} must be a concrete Grain that implements {grainInterface.Name}.");
        }

        if (_byType.TryGetValue(info.TypeName, out var existing) && existing.Class != grainClass)
        {
            throw new InvalidOperationException($"Grain type '{info.TypeName}' is registered twice ({existing.Class.Name}, {grainClass.Name}).");
        }

        _byType[info.TypeName] = new GrainRegistration(info, grainClass, ActivatorUtilities.CreateFactory(grainClass, []));
    }

    public GrainRegistration? Find(string typeName) => _byType.GetValueOrDefault(typeName);
}

/// <summary>One hosted grain type: its interface and the factory of its class.</summary>
public sealed record GrainRegistration(GrainInterface Interface, Type Class, ObjectFactory Factory)
{
    public Grain Create(IServiceProvider services) => (Grain)Factory(services, null);
}
