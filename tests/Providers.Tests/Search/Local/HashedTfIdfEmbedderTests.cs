using System.Globalization;
using MediaActors.Providers.Search.Local;

namespace MediaActors.Providers.Tests.Search.Local;

public sealed class HashedTfIdfEmbedderTests
{
    private static readonly string[] Passages =
    [
        "solar panels on the roof charge the home battery during the day",
        "the football team won the championship after a difficult season",
        "to bake bread you need flour water yeast and a lot of patience",
        "the central bank raised interest rates again to fight inflation",
        "our cloud database replicates every write to three regions",
    ];

    [Fact]
    public void Names_the_provider_model_and_dimensions()
    {
        var embedder = new HashedTfIdfEmbedder();

        Assert.Equal("local-hashed", embedder.Name);
        Assert.Equal("hashed-tfidf-v1", embedder.Model);
        Assert.Equal(512, embedder.Dimensions);
    }

    [Fact]
    public async Task Same_text_gives_the_identical_vector_from_two_instances()
    {
        var first = await new HashedTfIdfEmbedder().EmbedAsync(Passages, CancellationToken.None);
        var second = await new HashedTfIdfEmbedder().EmbedAsync(Passages.Reverse().ToArray(), CancellationToken.None);

        for (var i = 0; i < Passages.Length; i++)
        {
            Assert.Equal(first[i], second[Passages.Length - 1 - i]);
        }
    }

    /// <summary>Vectors are stored: the features, the hash and the weights must not drift between builds or machines.</summary>
    [Fact]
    public void Vectors_are_pinned_across_processes_and_machines()
    {
        Assert.Equal(0xcbf29ce484222325UL, HashedTfIdfFeatures.Fnv1a(string.Empty));
        Assert.Equal(0xaf63dc4c8601ec8cUL, HashedTfIdfFeatures.Fnv1a("a"));
        Assert.Equal(0x85944171f73967e8UL, HashedTfIdfFeatures.Fnv1a("foobar"));

        var vector = new HashedTfIdfEmbedder(64).Embed("Solar batteries");
        var fingerprint = string.Join(',', vector.Select((v, i) => (v, i)).Where(x => x.v != 0).Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.i}:{x.v:0.0000}")));
        Assert.Equal(PinnedFingerprint, fingerprint);
    }

    [Fact]
    public void Similar_texts_are_closer_than_unrelated_ones()
    {
        var embedder = new HashedTfIdfEmbedder();
        var solar = embedder.Embed("solar panels on the roof charge the home battery during the day");
        var similar = embedder.Embed("during the day the battery at home is charged by solar panels on our roof");
        var unrelated = embedder.Embed("the football team won the championship after a difficult season");

        var close = Cosine(solar, similar);
        var far = Cosine(solar, unrelated);

        Assert.True(close > 0.5, $"similar: {close}");
        Assert.True(close - far > 0.4, $"similar {close}, unrelated {far}");
    }

    [Theory]
    [InlineData("how do solor pannels charge a batery", 0)]
    [InlineData("the futball teem won the champion ship", 1)]
    [InlineData("baking bred with flower and yeest", 2)]
    [InlineData("central banks raising intrest rate", 3)]
    [InlineData("data base replication across regions", 4)]
    public async Task A_query_with_recognition_errors_still_ranks_the_right_passage_first(string query, int expected)
    {
        var embedder = new HashedTfIdfEmbedder();
        var passages = await embedder.EmbedAsync(Passages, CancellationToken.None);
        var q = (await embedder.EmbedAsync([query], CancellationToken.None))[0];

        var scores = passages.Select(p => Cosine(q, p)).ToArray();
        var best = Array.IndexOf(scores, scores.Max());

        Assert.True(expected == best, $"expected passage {expected}, got {best}: {string.Join(", ", scores.Select(s => s.ToString("0.000")))}");
    }

    [Fact]
    public async Task Vectors_have_unit_norm_and_empty_text_gives_the_zero_vector()
    {
        var embedder = new HashedTfIdfEmbedder();
        string[] texts = ["", "   ", "the and of to", "<sil> [noise]", "Solar!", .. Passages];

        var vectors = await embedder.EmbedAsync(texts, CancellationToken.None);

        Assert.Equal(texts.Length, vectors.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(512, vectors[i].Length);
            Assert.All(vectors[i], v => Assert.True(float.IsFinite(v)));
            var norm = Math.Sqrt(vectors[i].Sum(v => (double)v * v));
            Assert.Equal(i < 4 ? 0.0 : 1.0, norm, 5);
        }
    }

    [Fact]
    public void Case_punctuation_plurals_and_accents_do_not_change_the_vector()
    {
        var embedder = new HashedTfIdfEmbedder();

        Assert.Equal(embedder.Embed("solar panel, cafe battery"), embedder.Embed("Solar PANELS: café batteries!"));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(128)]
    [InlineData(1536)]
    public void Dimensions_are_honoured(int dimensions)
    {
        var embedder = new HashedTfIdfEmbedder(dimensions);

        Assert.Equal(dimensions, embedder.Dimensions);
        Assert.Equal(dimensions, embedder.Embed("solar panels and batteries").Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(100_000)]
    public void Unusable_dimensions_are_refused(int dimensions) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HashedTfIdfEmbedder(dimensions));

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }

    private const string PinnedFingerprint = "1:0.1762,2:-0.1762,3:-0.3523,11:-0.5872,23:-0.5872,39:-0.1762,48:0.1762,55:-0.1762,56:0.1762";
}
