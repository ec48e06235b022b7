using MediaActors.Runtime;
using MediaActors.Runtime.TestSilo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A silo process hosting the test grains, for tests about processes dying. Prints READY when started.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSilo(builder.Configuration).AddTestGrains();
using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("READY");
await host.WaitForShutdownAsync();
