using System.Net;
using MediaActors.Grains;
using MediaActors.ServiceDefaults;
using MediaActors.Silo;
using Orleans.Dashboard;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddMediaActorsGrains(builder.Configuration);
builder.UseOrleans(silo => silo.UseMediaActorsCluster(builder.Configuration));

var app = builder.Build();
app.MapServiceDefaults();
var dashboard = app.MapOrleansDashboard(routePrefix: "/dashboard");
if (ClusterSettings.From(builder.Configuration).DashboardLoopbackOnly)
{
    // Operators only: the dashboard shows every grain and call of the cluster.
    dashboard.AddEndpointFilter(async (context, next) =>
        context.HttpContext.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote)
            ? await next(context)
            : Results.Problem(title: "Forbidden", detail: "The Orleans Dashboard answers loopback requests only (Orleans:DashboardLoopbackOnly).", statusCode: 403));
}

app.MapGet("/", () => Results.Redirect("/dashboard/"));
app.Run();
