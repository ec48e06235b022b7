using MediaActors.Providers.Search;
using Orleans.Concurrency;

namespace MediaActors.Grains.Search;

/// <summary>Embeds a search query with this silo's embedder (the same provider and model as its embedding step).</summary>
[StatelessWorker]
public sealed class QueryEmbedderGrain(IEmbedder embedder) : Grain, IQueryEmbedderGrain
{
    public async Task<QueryVector> Embed(string query)
    {
        var vectors = await embedder.EmbedAsync([query], CancellationToken.None);
        return new QueryVector(vectors[0], embedder.Name, embedder.Model);
    }
}
