using MediaActors.Providers.Content;
using MediaActors.Providers.Content.Local;
using MediaActors.Providers.Search;
using MediaActors.Providers.Search.Local;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MediaActors.Providers.Tests.Search.Local;

/// <summary>The sentence model is loaded when a silo starts if the silo uses it, so its first use does not wait for it.</summary>
public sealed class SentenceModelPreloadTests
{
    [Fact]
    public async Task It_is_loaded_at_start_for_search_embeddings_or_for_key_points_picked_by_meaning()
    {
        foreach (var settings in new[] { [], new[] { ("Embeddings:Provider", "local-hashed") }, new[] { ("Content:Local:SentenceModel", "false") } })
        {
            using var host = Host(settings);
            await host.StartAsync();
            var model = host.Services.GetRequiredService<MiniLmEmbedder>();
            await WaitUntilAsync(() => model.Loaded);
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task It_is_not_loaded_when_nothing_uses_it_or_loading_at_start_is_off()
    {
        foreach (var settings in new[]
        {
            new[] { ("Embeddings:Provider", "local-hashed"), ("Content:Local:SentenceModel", "false") },
            new[] { ("Embeddings:Local:LoadAtStart", "false") },
        })
        {
            using var host = Host(settings);
            await host.StartAsync();
            await host.Services.GetServices<IHostedService>().OfType<SentenceModelPreload>().Single().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.False(host.Services.GetRequiredService<MiniLmEmbedder>().Loaded, string.Join(", ", settings));
            await host.StopAsync();
        }
    }

    private static IHost Host(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddLogging();
        builder.Services.AddLocalContentAndEmbeddings(configuration);
        builder.Services.AddSingleton<IEmbedder>(sp => configuration["Embeddings:Provider"] == "local-hashed"
            ? sp.GetRequiredService<HashedTfIdfEmbedder>()
            : sp.GetRequiredService<MiniLmEmbedder>());
        builder.Services.AddSingleton<IContentGenerator>(sp => sp.GetRequiredService<ExtractiveContentGenerator>());
        builder.Services.AddSentenceModelPreload(configuration);
        return builder.Build();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The model was not loaded within 60 s.");
            await Task.Delay(50);
        }
    }
}
