using MediaActors.Grains;
using MediaActors.Runtime;
using MediaActors.ServiceDefaults;
using MediaActors.Silo;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddSilo(builder.Configuration).AddMediaActorsGrains(builder.Configuration);

var app = builder.Build();
app.MapServiceDefaults();
app.MapDashboard();
app.Run();
