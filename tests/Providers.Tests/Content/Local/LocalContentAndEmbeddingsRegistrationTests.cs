using MediaActors.Providers.Content.Local;
using MediaActors.Providers.Search.Local;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MediaActors.Providers.Tests.Content.Local;

public sealed class LocalContentAndEmbeddingsRegistrationTests
{
    [Fact]
    public void Registers_both_as_singletons_with_default_dimensions()
    {
        using var provider = Build([]);

        var generator = provider.GetRequiredService<ExtractiveContentGenerator>();
        var embedder = provider.GetRequiredService<HashedTfIdfEmbedder>();

        Assert.Same(generator, provider.GetRequiredService<ExtractiveContentGenerator>());
        Assert.Same(embedder, provider.GetRequiredService<HashedTfIdfEmbedder>());
        Assert.Equal(512, embedder.Dimensions);
    }

    [Fact]
    public void Dimensions_come_from_configuration()
    {
        using var provider = Build(new() { ["Embeddings:Local:Dimensions"] = "256" });

        Assert.Equal(256, provider.GetRequiredService<HashedTfIdfEmbedder>().Dimensions);
    }

    [Fact]
    public void Invalid_dimensions_fail_with_a_clear_message()
    {
        using var provider = Build(new() { ["Embeddings:Local:Dimensions"] = "3" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<HashedTfIdfEmbedder>());
        Assert.Contains("Embeddings:Local:Dimensions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registering_twice_keeps_one_registration()
    {
        var configuration = new ConfigurationBuilder().Build();
        var services = new ServiceCollection().AddLocalContentAndEmbeddings(configuration).AddLocalContentAndEmbeddings(configuration);

        Assert.Single(services, d => d.ServiceType == typeof(HashedTfIdfEmbedder));
        Assert.Single(services, d => d.ServiceType == typeof(ExtractiveContentGenerator));
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLocalContentAndEmbeddings(configuration).BuildServiceProvider();
    }
}
