using MediaActors.Runtime;

namespace MediaActors.Grains;

/// <summary>Registers the product's grains and workers on a silo.</summary>
public static class GrainRegistration
{
    /// <summary>Every product grain and worker. The video, publishing and avatar flows add theirs here.</summary>
    public static SiloBuilder AddMediaActorsGrains(this SiloBuilder silo) => silo;
}
