using MediaActors.Api;
using MediaActors.Api.Auth;
using MediaActors.Api.Notifications;
using MediaActors.Api.Operator;
using MediaActors.Api.Stats;
using MediaActors.Api.Google;
using MediaActors.Api.Idempotency;
using MediaActors.Api.Projects;
using MediaActors.Api.Publish;
using MediaActors.Api.Realtime;
using MediaActors.Api.Search;
using MediaActors.Api.Uploads;
using MediaActors.Api.Videos;
using MediaActors.Providers;
using MediaActors.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddMediaActorsClusterClient();
builder.Services.AddMediaActorsProviders(builder.Configuration);
builder.Services.AddOptions<UploadOptions>().Bind(builder.Configuration.GetSection("Uploads"));
builder.Services.AddHostedService<BrowserUploadCors>();
builder.Services.AddMediaActorsAuthentication(builder.Configuration);
builder.Services.AddOperatorPolicy(builder.Configuration);
builder.Services.AddOperator();
builder.Services.AddHostedService<DevelopmentKey>();
builder.Services.AddMediaActorsLimits(builder.Configuration, builder.WebHost);
builder.Services.AddIdempotencyKeys(builder.Configuration);
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower));
    o.SerializerOptions.MaxDepth = RequestGuards.MaxJsonDepth;
});
builder.Services.AddSignalR(o => o.MaximumReceiveMessageSize = 32 * 1024);
// The in-memory lifetime manager with batched sends for the event relay (one lifetime manager per hub type).
builder.Services.AddSingleton<ProjectHubLifetimeManager>();
builder.Services.AddSingleton<Microsoft.AspNetCore.SignalR.HubLifetimeManager<ProjectHub>>(sp => sp.GetRequiredService<ProjectHubLifetimeManager>());
builder.Services.AddSingleton<EventFeed>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<EventFeed>());
builder.Services.AddSingleton<EventRelay>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<EventRelay>());
builder.Services.AddOpenApi(o => o.AddIdempotencyKeyHeader());

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
// The web app (wwwroot: no build step, every asset served from here).
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseJsonCharsetGuard();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseJsonBodyGuard();
app.UseIdempotencyKeys();
app.MapOpenApi();
app.MapServiceDefaults();
app.MapKeys();
app.MapDevelopmentKey();
app.MapUploads();
app.MapProjects();
app.MapSearch();
app.MapGoogle();
app.MapPublish();
app.MapVideos();
app.MapWebhooks();
app.MapNotifications();
app.MapStats();
app.MapOperator();
app.MapProjectEvents();
app.MapHub<ProjectHub>(ProjectHub.Path);
app.Run();

/// <summary>Lets the tests host the API in process.</summary>
public partial class Program;
