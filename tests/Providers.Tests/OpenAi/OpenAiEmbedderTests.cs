using MediaActors.Providers.OpenAi;
using MediaActors.Providers.Search.OpenAi;
using MediaActors.Providers.Tests.Fakes;

namespace MediaActors.Providers.Tests.OpenAi;

public sealed class OpenAiEmbedderTests : IAsyncLifetime
{
    private const string EmbeddingsPath = "/v1/embeddings";
    private FakeOpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Embeds_in_batches_and_returns_normalised_vectors_in_input_order()
    {
        _server.ReverseEmbeddingOrder = true;
        var texts = Enumerable.Range(0, 150).Select(i => $"passage number {i} about topic {i % 7}").ToList();
        var embedder = Embedder(new OpenAiEmbeddingOptions { Dimensions = 256, BatchSize = 64 });

        var vectors = await embedder.EmbedAsync(texts, CancellationToken.None);

        var requests = _server.RequestsTo(EmbeddingsPath);
        Assert.Equal([64, 64, 22], requests.Select(r => r.Json!["input"]!.AsArray().Count));
        Assert.All(requests, r =>
        {
            Assert.True(r.Authorized);
            Assert.Equal("text-embedding-3-small", (string?)r.Json!["model"]);
            Assert.Equal(256, (int?)r.Json!["dimensions"]);
            Assert.Equal("base64", (string?)r.Json!["encoding_format"]);
        });
        Assert.Equal(texts, requests.SelectMany(r => r.Json!["input"]!.AsArray().Select(i => (string)i!)));

        Assert.Equal(150, vectors.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            Assert.Equal(256, vectors[i].Length);
            Assert.Equal(1.0, Math.Sqrt(vectors[i].Sum(v => (double)v * v)), 5);
            var expected = FakeOpenAiServer.EmbeddingFor(texts[i], 256);
            var norm = Math.Sqrt(expected.Sum(v => (double)v * v));
            Assert.NotEqual(1.0, norm, 3);
            for (var d = 0; d < expected.Length; d++)
            {
                Assert.Equal(expected[d] / norm, vectors[i][d], 5);
            }
        }

        Assert.Equal("openai", embedder.Name);
        Assert.Equal("text-embedding-3-small", embedder.Model);
        Assert.Equal(256, embedder.Dimensions);
    }

    [Fact]
    public async Task No_texts_means_no_request()
    {
        var vectors = await Embedder(new OpenAiEmbeddingOptions()).EmbedAsync([], CancellationToken.None);

        Assert.Empty(vectors);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Blank_texts_are_sent_as_a_space_because_the_api_rejects_empty_strings()
    {
        var vectors = await Embedder(new OpenAiEmbeddingOptions { Dimensions = 64 }).EmbedAsync(["", "hello"], CancellationToken.None);

        Assert.Equal(2, vectors.Count);
        Assert.Equal([" ", "hello"], Assert.Single(_server.Requests).Json!["input"]!.AsArray().Select(i => (string)i!));
    }

    [Theory]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    public async Task Http_failures_become_step_exceptions(int status, bool transient)
    {
        _server.FailNext(1, status, EmbeddingsPath);

        var error = await Assert.ThrowsAsync<StepException>(() => Embedder(new OpenAiEmbeddingOptions()).EmbedAsync(["a"], CancellationToken.None));

        Assert.Equal(transient, error.Transient);
        Assert.StartsWith($"OpenAI embeddings request failed with HTTP {status}", error.Message);
        Assert.DoesNotContain(_server.ApiKey, error.ToString());
    }

    private OpenAiEmbedder Embedder(OpenAiEmbeddingOptions options) =>
        new(new OpenAiOptions { Endpoint = _server.Endpoint, ApiKey = _server.ApiKey }, options);
}
