using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MediaActors.ServiceDefaults.Database;
using MediaActors.ServiceDefaults.DataProtection;
using Npgsql;

namespace MediaActors.ServiceDefaults;

/// <summary>What every MediaActors host shares: the database and its migrations, logging, health checks of the database and the blob store, problem details.</summary>
public static class ServiceDefaultsExtensions
{
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        if (builder.Configuration["Logging:Format"] == "json")
        {
            builder.Logging.ClearProviders().AddJsonConsole();
        }

        builder.Services.AddProblemDetails();
        // First: the database is created and migrated before any other hosted service (Orleans included) starts.
        builder.Services.AddMediaActorsDatabase(builder.Configuration);
        builder.Services.AddMediaActorsDataProtection(builder.Configuration);
        var blobs = builder.Configuration.GetConnectionString("Blobs")
            ?? throw new InvalidOperationException("ConnectionStrings:Blobs is not set (environment variable ConnectionStrings__Blobs).");
        builder.Services.AddSingleton(new BlobHealthCheck(blobs));
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", timeout: TimeSpan.FromSeconds(5))
            .AddCheck<BlobHealthCheck>("blobs", timeout: TimeSpan.FromSeconds(5));
        return builder;
    }

    /// <summary>GET /health: 200 when the database and the blob store answer, 503 otherwise, with each check's state as JSON.</summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        return app;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            durationMs = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString().ToLowerInvariant(), durationMs = Math.Round(e.Value.Duration.TotalMilliseconds, 1), error = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    }
}

/// <summary>The database answers a query.</summary>
public sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy($"database unreachable: {ex.GetType().Name}: {FirstLine(ex.Message)}");
        }
    }

    internal static string FirstLine(string text) => text.Split('\n')[0].Trim();
}

/// <summary>The blob store lists containers (no retries, so a down store is reported at once).</summary>
public sealed class BlobHealthCheck(string connectionString) : IHealthCheck
{
    private readonly BlobServiceClient _client = new(connectionString, new BlobClientOptions
    {
        Retry = { MaxRetries = 0, NetworkTimeout = TimeSpan.FromSeconds(3) },
    });

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var pages = _client.GetBlobContainersAsync(cancellationToken: cancellationToken).AsPages(pageSizeHint: 1).GetAsyncEnumerator(cancellationToken);
            await pages.MoveNextAsync();
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            // The exception text of the storage client can include request headers: report its type and first line only.
            return HealthCheckResult.Unhealthy($"blob store unreachable: {ex.GetType().Name}: {DatabaseHealthCheck.FirstLine(ex.Message)}");
        }
    }
}
