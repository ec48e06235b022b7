namespace MediaActors.Grains.Search;

/// <summary>A search query's vector and the embedder that made it (only stored vectors of the same provider and model compare).</summary>
[GenerateSerializer, Alias("QueryVector")]
public sealed record QueryVector([property: Id(0)] float[] Vector, [property: Id(1)] string Provider, [property: Id(2)] string Model);

/// <summary>
/// Embeds search queries on a silo with the embedder its steps use (the model is loaded once per silo; API hosts load
/// none). A stateless worker: calls go to the caller's gateway silo, several at once.
/// </summary>
[Alias("IQueryEmbedderGrain")]
public interface IQueryEmbedderGrain : IGrainWithIntegerKey
{
    [Alias("Embed")]
    Task<QueryVector> Embed(string query);
}
