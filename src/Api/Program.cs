using MediaActors.Runtime;
using MediaActors.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddActorClient(builder.Configuration);
builder.Services.AddOpenApi();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapOpenApi();
app.MapServiceDefaults();
app.Run();

/// <summary>Lets the tests host the API in process.</summary>
public partial class Program;
