using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MediaActors.Runtime.TestSilo;

/// <summary>A silo process hosting the test grains, for tests about processes dying. Prints READY when started.</summary>
internal static class TestSiloProgram
{
    public static async Task Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddSilo(builder.Configuration).AddTestGrains();
        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("READY");
        await host.WaitForShutdownAsync();
    }
}
