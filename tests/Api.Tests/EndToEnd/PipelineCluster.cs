using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MediaActors.ServiceDefaults.Tests;

namespace MediaActors.Api.Tests.EndToEnd;

/// <summary>
/// The whole system as real processes against a test database and the test Azurite: silo processes and
/// an API process on a free port, reached over real HTTP with the development API key.
/// </summary>
public sealed class PipelineCluster : IAsyncDisposable
{
    private readonly TestDatabase _database = new();
    private readonly List<HostProcess> _silos = [];
    private readonly List<HostProcess> _apis = [];

    private PipelineCluster(string dataDirectory, Dictionary<string, string?> settings)
    {
        DataDirectory = dataDirectory;
        Settings = settings;
    }

    public string DataDirectory { get; }

    /// <summary>The settings given to every process (tests may add to them before starting more silos).</summary>
    public Dictionary<string, string?> Settings { get; }

    /// <summary>Where steps put their temporary files: empty whenever no step runs.</summary>
    public string TempDirectory => Path.Combine(DataDirectory, "tmp");

    /// <summary>
    /// What the steps left in their temporary folder: nothing once no step runs (the hand-over folder may stay, empty
    /// once the step after the media step took its WAV).
    /// </summary>
    public string[] TempEntries() =>
        Directory.Exists(TempDirectory)
            ? Directory.GetFileSystemEntries(TempDirectory, "*", SearchOption.AllDirectories).Select(e => Path.GetRelativePath(TempDirectory, e)).Where(e => e != "handover").ToArray()
            : [];

    public HttpClient Http { get; private set; } = null!;

    public TestDatabase Database => _database;

    public IReadOnlyList<HostProcess> Silos => _silos;

    public IReadOnlyList<HostProcess> Apis => _apis;

    /// <summary>The symmetric key the test API hosts accept JWTs from (tests only).</summary>
    public const string JwtSigningKey = "test-signing-key-for-mediaactors-0123456789";

    /// <summary>A JWT for user <paramref name="subject"/>, signed like an OIDC issuer would (HS256 here).</summary>
    public static string Jwt(string subject, TimeSpan? lifetime = null)
    {
        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler();
        return handler.CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", subject)]),
            Issuer = "mediaactors-tests",
            Audience = "mediaactors",
            Expires = DateTime.UtcNow.Add(lifetime ?? TimeSpan.FromHours(1)),
            NotBefore = DateTime.UtcNow.AddMinutes(-1),
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(Encoding.UTF8.GetBytes(JwtSigningKey)),
                Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
        });
    }

    public static string Blobs =>
        Environment.GetEnvironmentVariable("MA_TEST_BLOBS") is { Length: > 0 } value
            ? value
            : "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10010/devstoreaccount1;";

    public static async Task<PipelineCluster> StartAsync(int silos = 1, Action<Dictionary<string, string?>>? configure = null)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("ma-e2e-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Blobs"] = Blobs,
            ["DataDirectory"] = dataDirectory,
            ["Media:TempDirectory"] = Path.Combine(dataDirectory, "tmp"),
            ["Ingestion:AllowPrivateNetworks"] = "true",
            ["Projects:RetryBackoff"] = "00:00:00.300",
            // Leases long enough that a silo starved of CPU for a few seconds on a loaded machine keeps its work
            // (SiloDeathTests shortens them to see a dead silo's work taken over quickly).
            ["Projects:StepLease"] = "00:00:15",
            ["Projects:HeartbeatInterval"] = "00:00:00.500",
            ["Projects:WatchdogPeriod"] = "00:00:02",
            ["Projects:ShutdownGrace"] = "00:00:02",
            ["Orleans:ClusterId"] = "e2e",
            ["Limits:RequestsPerWindow"] = "100000",
            ["Auth:Jwt:SigningKey"] = JwtSigningKey,
            ["Auth:Jwt:Issuer"] = "mediaactors-tests",
            ["Auth:Jwt:Audience"] = "mediaactors",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:MediaActors"] = "Information",
        };
        configure?.Invoke(settings);
        var cluster = new PipelineCluster(dataDirectory, settings);
        try
        {
            await cluster._database.InitializeAsync();
            settings["ConnectionStrings:Postgres"] = cluster._database.ConnectionString;
            for (var i = 0; i < silos; i++)
            {
                cluster.StartSilo();
            }

            await cluster.StartApiAsync();
            return cluster;
        }
        catch
        {
            // Whatever did start is stopped: a half-started cluster must not keep loading the machine for the tests after it.
            await cluster.DisposeAsync();
            throw;
        }
    }

    public HostProcess StartSilo(Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["Orleans:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort()}",
        };
        configure?.Invoke(settings);
        var silo = HostProcess.Start("Silo", $"silo-{_silos.Count + 1}", settings);
        _silos.Add(silo);
        return silo;
    }

    /// <summary>The development API key (created by the first API host).</summary>
    public string ApiKey { get; private set; } = "";

    /// <summary>Starts another API host on the same database (with <paramref name="configure"/>'s settings of its own); returns its base address.</summary>
    public async Task<Uri> StartApiAsync(Action<Dictionary<string, string?>>? configure = null)
    {
        var keyFile = Path.Combine(DataDirectory, "dev-api-key");
        HostProcess api;
        Uri baseAddress;
        for (var start = 1; ; start++)
        {
            var port = FreePort();
            var settings = new Dictionary<string, string?>(Settings) { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" };
            configure?.Invoke(settings);
            api = HostProcess.Start("Api", $"api-{_apis.Count + 1}", settings);
            baseAddress = new Uri($"http://127.0.0.1:{port}");
            if (await WaitHealthyAsync(api, baseAddress, keyFile))
            {
                _apis.Add(api);
                break;
            }

            // The free port found was taken before the host bound it (another process, or an outgoing connection's
            // ephemeral port): another port.
            if (start < 3 && api.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await api.DisposeAsync();
                continue;
            }

            _apis.Add(api);
            throw new InvalidOperationException($"The API did not become healthy:\n{api.Output}");
        }

        if (_apis.Count == 1)
        {
            ApiKey = (await File.ReadAllTextAsync(keyFile)).Trim();
            Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
            Http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        }

        if (_silos.Count > 0)
        {
            // The API serves before its Orleans client reached a silo (grain calls answer 503 meanwhile): a project that
            // does not exist answers 404 once the grain answered.
            // A silo starting on a machine busy with other test assemblies can take a while: a deadline of its own.
            using var ready = new HttpClient { BaseAddress = baseAddress };
            ready.DefaultRequestHeaders.Add("X-Api-Key", (await File.ReadAllTextAsync(keyFile)).Trim());
            var reachDeadline = DateTime.UtcNow.AddSeconds(150);
            while ((await ready.GetAsync($"/api/projects/{Guid.NewGuid()}")).StatusCode != HttpStatusCode.NotFound)
            {
                if (api.HasExited || DateTime.UtcNow > reachDeadline)
                {
                    throw new InvalidOperationException($"The API did not reach a silo:\n{api.Output}\n" +
                        string.Join("\n", _silos.Select(s => $"--- {s.Name} ---\n{s.Output}")));
                }

                await Task.Delay(200);
            }
        }

        return baseAddress;
    }

    /// <summary>Flow 2 as a client does it: ask for a SAS URL, put blocks straight into blob storage, commit them, complete.</summary>
    public async Task<(HttpResponseMessage Response, JsonElement Body)> UploadAsync(string path, string contentType = "video/mp4", int blockSize = 256 * 1024)
    {
        var upload = await CreateUploadAsync(Path.GetFileName(path), new FileInfo(path).Length, contentType);
        var uploadUrl = upload.GetProperty("uploadUrl").GetString()!;
        await PutBlocksAsync(uploadUrl, path, blockSize);
        var complete = await Http.PostAsync($"/api/uploads/{upload.GetProperty("uploadId").GetString()}/complete", null);
        var body = await ReadJsonAsync(complete);
        return (complete, body.ValueKind == JsonValueKind.Undefined ? upload : Merge(upload, body));
    }

    /// <summary>POST /api/uploads: the upload's id, its SAS URL and their expiry (the file is not sent).</summary>
    public async Task<JsonElement> CreateUploadAsync(string fileName, long sizeBytes, string contentType = "video/mp4")
    {
        using var created = await Http.PostAsJsonAsync("/api/uploads", new { fileName, contentType, sizeBytes });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return await created.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Uploads a file to a SAS URL with Put Block and Put Block List, the way a browser client would.</summary>
    public static async Task PutBlocksAsync(string sasUrl, string path, int blockSize)
    {
        using var storage = new HttpClient();
        var ids = new List<string>();
        await using var file = File.OpenRead(path);
        var buffer = new byte[blockSize];
        int read;
        while ((read = await file.ReadAsync(buffer)) > 0)
        {
            var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"block-{ids.Count:D6}"));
            using var request = new HttpRequestMessage(HttpMethod.Put, $"{sasUrl}&comp=block&blockid={Uri.EscapeDataString(id)}")
            {
                Content = new ByteArrayContent(buffer, 0, read),
            };
            request.Headers.Add("x-ms-version", "2021-08-06");
            var response = await storage.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"Put Block failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            ids.Add(id);
        }

        var list = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>" + string.Concat(ids.Select(i => $"<Latest>{i}</Latest>")) + "</BlockList>";
        using var commit = new HttpRequestMessage(HttpMethod.Put, $"{sasUrl}&comp=blocklist") { Content = new StringContent(list, Encoding.UTF8, "application/xml") };
        commit.Headers.Add("x-ms-version", "2021-08-06");
        var committed = await storage.SendAsync(commit);
        Assert.True(committed.IsSuccessStatusCode, $"Put Block List failed: {(int)committed.StatusCode} {await committed.Content.ReadAsStringAsync()}");
    }

    public async Task<JsonElement> CreateProjectAsync(object request)
    {
        var response = await Http.PostAsJsonAsync("/api/projects", request);
        var body = await ReadJsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /api/projects: {(int)response.StatusCode} {body}");
        return body;
    }

    public async Task<JsonElement> GetProjectAsync(string id) => await ReadJsonAsync(await Http.GetAsync($"/api/projects/{id}"));

    /// <summary>Polls the project until <paramref name="done"/> holds; fails with the project and the silos' logs otherwise.</summary>
    public async Task<JsonElement> WaitForAsync(string id, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        do
        {
            // Only a project is judged: an error answer on the way (a host busy for a moment) is polled past, and shown if it is the last.
            using var response = await Http.GetAsync($"/api/projects/{id}");
            var body = await response.Content.ReadAsStringAsync();
            last = $"{(int)response.StatusCode} {body}";
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var project = JsonDocument.Parse(body).RootElement.Clone();
                if (done(project))
                {
                    return project;
                }
            }

            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"Project {id} did not reach the expected state in {timeout}. Last: {last}\n" +
            string.Join("\n", _silos.Select(s => $"--- {s.Name} ---\n{s.Output}")));
    }

    public Task<JsonElement> WaitForStatusAsync(string id, string status, TimeSpan timeout) =>
        WaitForAsync(id, p => p.GetProperty("status").GetString() == status || IsFinal(p, status), timeout)
            .ContinueWith(t =>
            {
                var project = t.Result;
                Assert.True(project.GetProperty("status").GetString() == status, $"Expected {status}, got {project}");
                return project;
            }, TaskScheduler.Default);

    /// <summary>Reads a server-sent event stream until an event of kind <paramref name="lastKind"/> (seq, kind, data of each).</summary>
    public async Task<List<(long Seq, string Kind, JsonElement Data)>> ReadEventsUntilAsync(string path, string lastKind)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await Http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var events = new List<(long, string, JsonElement)>();
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var message = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                var kind = message.GetProperty("kind").GetString()!;
                events.Add((message.GetProperty("seq").GetInt64(), kind, message.GetProperty("data")));
                if (kind == lastKind)
                {
                    return events;
                }
            }
        }

        throw new InvalidOperationException($"The stream ended before {lastKind}.");
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        foreach (var api in _apis)
        {
            await api.DisposeAsync();
        }

        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        await _database.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Waits until the API host answers /health and wrote the development key; false if it exited or took over 60 s.</summary>
    private static async Task<bool> WaitHealthyAsync(HostProcess api, Uri baseAddress, string keyFile)
    {
        using var probe = new HttpClient { BaseAddress = baseAddress };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if ((await probe.GetAsync("/health")).StatusCode == HttpStatusCode.OK && File.Exists(keyFile))
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (api.HasExited || DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(200);
        }
    }

    public static int FreePort() => TestPorts.Next();

    private static bool IsFinal(JsonElement project, string wanted) =>
        project.GetProperty("status").GetString() is "completed" or "failed" or "cancelled" && wanted is "completed" or "failed" or "cancelled";

    private static JsonElement Merge(JsonElement a, JsonElement b)
    {
        var merged = new Dictionary<string, JsonElement>();
        foreach (var property in a.EnumerateObject().Concat(b.EnumerateObject()))
        {
            merged[property.Name] = property.Value;
        }

        return JsonSerializer.SerializeToElement(merged);
    }
}
