using System.Net;
using System.Text.Json;
using MediaActors.ServiceDefaults.Tests;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace MediaActors.Api.Tests;

public sealed class HealthTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static string Blobs =>
        Environment.GetEnvironmentVariable("MA_TEST_BLOBS") is { Length: > 0 } value
            ? value
            : "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10010/devstoreaccount1;";

    private static WebApplicationFactory<Program> Api(string postgres, string blobs) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("ConnectionStrings:Postgres", postgres);
            builder.UseSetting("ConnectionStrings:Blobs", blobs);
        });

    [Fact]
    public async Task Health_is_200_when_the_database_and_the_blob_store_answer()
    {
        await using var api = Api(database.ConnectionString, Blobs);
        var (response, body) = await HealthAsync(api.CreateClient(), status => status == HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("blobs").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_is_503_naming_the_blob_store_when_it_is_down()
    {
        // Port 9 (discard) has nothing listening: the same account, an unreachable endpoint.
        var closedPort = System.Text.RegularExpressions.Regex.Replace(Blobs, "BlobEndpoint=[^;]+", "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1");
        await using var api = Api(database.ConnectionString, closedPort);
        var (response, body) = await HealthAsync(api.CreateClient(),
            (_, checks) => checks.GetProperty("database").GetProperty("status").GetString() == "healthy");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("unhealthy", body.GetProperty("checks").GetProperty("blobs").GetProperty("status").GetString());
        Assert.Contains("blob store unreachable", body.GetProperty("checks").GetProperty("blobs").GetProperty("error").GetString());
        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.DoesNotContain("AccountKey", body.ToString());
    }

    [Fact]
    public async Task Health_is_503_naming_the_database_when_it_goes_down()
    {
        var server = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var relay = new TcpRelay(server.Host!, server.Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = relay.Port, Timeout = 3 }.ConnectionString;
        await using var api = Api(throughRelay, Blobs);
        var client = api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(client, status => status == HttpStatusCode.OK)).Response.StatusCode);

        await relay.StopAsync();
        NpgsqlConnection.ClearAllPools();
        var response = await client.GetAsync("/health");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("unhealthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Contains("database unreachable", body.GetProperty("checks").GetProperty("database").GetProperty("error").GetString());
    }

    private static Task<(HttpResponseMessage Response, JsonElement Body)> HealthAsync(HttpClient client, Func<HttpStatusCode, bool> until) =>
        HealthAsync(client, (status, _) => until(status));

    /// <summary>
    /// GET /health until <paramref name="until"/> holds or 30 s passed (then the last answer): the first checks of a new host
    /// pay for compilation and connection set-up, and each check has a few seconds before it counts as down.
    /// </summary>
    private static async Task<(HttpResponseMessage Response, JsonElement Body)> HealthAsync(HttpClient client, Func<HttpStatusCode, JsonElement, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await client.GetAsync("/health");
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            if (until(response.StatusCode, body.GetProperty("checks")) || DateTime.UtcNow > deadline)
            {
                return (response, body);
            }

            response.Dispose();
            await Task.Delay(500);
        }
    }
}
