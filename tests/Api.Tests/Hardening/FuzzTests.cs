using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using MediaActors.Api.Tests.EndToEnd;
using Xunit.Abstractions;

namespace MediaActors.Api.Tests.Hardening;

/// <summary>
/// Issue 4, hardened inputs: thousands of generated malformed requests (wrong types, huge values, bad JSON, unicode, path
/// tricks, wrong methods, bad API keys and JWTs, bad content types, broken framing) across every route of the API, against a
/// real silo and API process: no answer is a 5xx, none goes unanswered, and the database is the same afterwards.
/// Deterministic: request i depends only on the seed and i (see <see cref="FuzzRequestGenerator"/>); set MA_FUZZ_RESULTS to a
/// file path to get every request and its answer.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Seed = 20_250_604;
    private const int RequestCount = 6_000;
    private const int Concurrency = 8;
    // Generous: an answer this late on a loaded machine is slow, not missing.
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(45);

    private PipelineCluster _cluster = null!;
    private string _media = null!;

    public async Task InitializeAsync()
    {
        // Scopes put each request's TraceId and RequestPath on its log entries: a 5xx answer's traceId leads to its exception.
        _cluster = await PipelineCluster.StartAsync(silos: 1, configure: s => s["Logging:Console:IncludeScopes"] = "true");
        _media = Directory.CreateTempSubdirectory("ma-fuzz-media-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_media, recursive: true);
    }

    [Fact]
    public async Task Malformed_requests_on_every_route_get_no_5xx_and_change_nothing()
    {
        var targets = await CreateLegitimateDataAsync();
        var before = await QuiescentSnapshotAsync(TimeSpan.FromSeconds(60), requireQuiet: true);
        var api = HostLogs.Api(_cluster) ?? throw new InvalidOperationException("The API host is not reachable through PipelineCluster._apis.");
        var logStart = HostLogs.Lines(api).Length;
        var endpoint = new IPEndPoint(IPAddress.Loopback, _cluster.Http.BaseAddress!.Port);

        var generator = new FuzzRequestGenerator(targets, Seed);
        var results = new FuzzResult[RequestCount];
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, RequestCount), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, _) =>
        {
            var request = generator.Generate(i);
            var response = await RawHttp.SendAsync(endpoint, request, RequestTimeout);
            results[i] = FuzzResult.Of(i, request, response);
        });
        var fuzzTime = watch.Elapsed;

        var after = await QuiescentSnapshotAsync(TimeSpan.FromSeconds(20), requireQuiet: false);
        var changes = after.DifferencesFrom(before);
        var lines = HostLogs.Lines(api);

        var failures = results.Where(r => r.IsFailure).ToList();
        var report = Report(results, fuzzTime, generator.Regenerated, before, lines, logStart);
        output.WriteLine(report);
        if (Environment.GetEnvironmentVariable("MA_FUZZ_RESULTS") is { Length: > 0 } dump)
        {
            // Every request and its answer, one per line, for looking into the run.
            await File.WriteAllLinesAsync(dump, results.Select(r => r.Line()));
        }

        var message = new StringBuilder();
        if (failures.Count > 0)
        {
            message.Append($"{failures.Count} of {results.Length} malformed requests got a 5xx or no answer.\n\n");
            message.Append("Distinct failures (status and server exception, quoted values elided; the routes; example requests):\n");
            foreach (var group in failures.GroupBy(f => HostLogs.Normalize(f.Cause(lines))).OrderByDescending(g => g.Count()))
            {
                message.Append($"  {group.Count(),5} x {group.Key}\n");
                message.Append("          on ").Append(string.Join(", ", group.GroupBy(f => f.Route).Select(g => $"{g.Key} x{g.Count()}")));
                message.Append("; e.g. ").Append(string.Join(", ", group.Take(6).Select(f => $"#{f.Index}"))).Append('\n');
            }

            message.Append("\nEvery failing request:\n");
            foreach (var failure in failures)
            {
                message.Append(failure.Describe(lines)).Append('\n');
            }

            var errors = HostLogs.Errors(lines, logStart);
            if (errors.Count > 0)
            {
                message.Append($"\nError entries in the API's log during the run ({errors.Count}, distinct):\n");
                foreach (var group in errors.GroupBy(HostLogs.Signature))
                {
                    message.Append($"  {group.Count(),5} x {group.Key}\n");
                }
            }
        }

        if (changes.Length > 0)
        {
            message.Append("\nThe database changed:\n").Append(changes);
        }

        if (api.HasExited)
        {
            message.Append("\nThe API process exited during the run:\n").Append(api.Output);
        }

        Assert.True(results.Length >= 5_000, $"Only {results.Length} requests were sent.");
        Assert.True(message.Length == 0, message.ToString());
    }

    /// <summary>One pending upload and one project from a link that fails (HTTP 404), left as they are; and the development key's id.</summary>
    private async Task<FuzzTargets> CreateLegitimateDataAsync()
    {
        var upload = await _cluster.Http.PostAsJsonAsync("/api/uploads", new { fileName = "talk.mp4", contentType = "video/mp4", sizeBytes = 123_456 });
        var uploadBody = await PipelineCluster.ReadJsonAsync(upload);
        Assert.True(upload.StatusCode == HttpStatusCode.Created, $"POST /api/uploads: {(int)upload.StatusCode} {uploadBody}");
        var uploadId = Guid.Parse(uploadBody.GetProperty("uploadId").GetString()!);

        await using var server = await LocalMediaServer.StartAsync(_media);
        var project = await _cluster.CreateProjectAsync(new { title = "Fuzz target \u00e9\u4e2d", url = server.Url("missing.mp4") });
        var projectId = project.GetProperty("id").GetString()!;
        var failed = await _cluster.WaitForStatusAsync(projectId, "failed", TimeSpan.FromMinutes(2));
        var keys = await PipelineCluster.ReadJsonAsync(await _cluster.Http.GetAsync("/api/keys"));
        var keyId = Guid.Parse(keys.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetString()!);
        output.WriteLine($"Set-up: upload {uploadId} (pending), project {projectId} ({failed.GetProperty("error").GetString()}), development key {keyId}");
        return new FuzzTargets(Guid.Parse(projectId), uploadId, _cluster.ApiKey, keyId, FuzzTokens.Valid(), FuzzTokens.Malformed());
    }

    /// <summary>
    /// A snapshot once nothing is in flight (no project uploading, queued or processing, no project watchdog reminder
    /// registered) and two snapshots a second apart agree. Before the run this must happen; after it the snapshot is taken
    /// anyway at the deadline, so that whatever the run left moving shows as a change.
    /// </summary>
    private async Task<DatabaseSnapshot> QuiescentSnapshotAsync(TimeSpan timeout, bool requireQuiet)
    {
        var deadline = DateTime.UtcNow + timeout;
        DatabaseSnapshot? previous = null;
        while (true)
        {
            var busy = await _cluster.Database.ScalarAsync<long>(
                "SELECT (SELECT count(*) FROM projects WHERE status IN ('uploading', 'queued', 'processing')) + (SELECT count(*) FROM orleans_reminders)");
            var snapshot = await DatabaseSnapshot.TakeAsync(_cluster.Database.ConnectionString);
            if (busy == 0 && previous is not null && snapshot.DifferencesFrom(previous).Length == 0)
            {
                return snapshot;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.False(requireQuiet, $"The database did not settle in {timeout} ({busy} projects in flight or watchdog reminders):\n{(previous is null ? "" : snapshot.DifferencesFrom(previous))}");
                return snapshot;
            }

            previous = busy == 0 ? snapshot : null;
            await Task.Delay(1000);
        }
    }

    private static string Report(FuzzResult[] results, TimeSpan elapsed, int regenerated, DatabaseSnapshot before, string[] lines, int logStart)
    {
        var text = new StringBuilder();
        text.Append($"{results.Length} requests in {elapsed.TotalSeconds:0.0} s with {Concurrency} at a time ({results.Length / elapsed.TotalSeconds:0} per second); ");
        text.Append($"{regenerated} generated requests were legitimate changes and were generated again; the database held {before.RowCount} rows in {before.Tables.Count - 1} tables.\n");
        text.Append($"Answered: {results.Count(r => r.Status > 0)}; closed without an answer (broken framing, allowed): {results.Count(r => r.Status <= 0 && !r.IsFailure)}; failures: {results.Count(r => r.IsFailure)}.\n");
        text.Append("\nBy fault: ").Append(string.Join(", ", results.GroupBy(r => r.Fault.Split('+')[0]).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))).Append('\n');
        text.Append("\nStatus codes by route:\n");
        foreach (var route in results.GroupBy(r => r.Route).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.Append($"  {route.Key,-48} {route.Count(),5}: ");
            text.Append(string.Join(", ", route.GroupBy(r => r.Status > 0 ? r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none").OrderBy(g => g.Key).Select(g => $"{g.Key} x{g.Count()}")));
            text.Append('\n');
        }

        var slowest = results.OrderByDescending(r => r.Elapsed).Take(5);
        text.Append("\nSlowest: ").Append(string.Join("; ", slowest.Select(r => $"#{r.Index} {r.Method} {Short(r.Target, 80)} {r.Elapsed.TotalMilliseconds:0} ms"))).Append('\n');
        var errors = HostLogs.Errors(lines, logStart);
        text.Append($"\nError entries in the API's log during the run: {errors.Count}\n");
        foreach (var group in errors.GroupBy(HostLogs.Signature))
        {
            text.Append($"  {group.Count(),5} x {group.Key}\n");
        }

        return text.ToString();
    }

    internal static string Short(string text, int length)
    {
        var visible = new StringBuilder();
        foreach (var c in text.Length > length ? text[..length] : text)
        {
            visible.Append(c < 0x20 || c == 0x7F || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return visible + (text.Length > length ? $"...({text.Length} chars)" : "");
    }

    /// <summary>What was sent and what came back, without the body (some are megabytes) beyond a snippet.</summary>
    private sealed record FuzzResult(
        int Index, string Fault, string Route, string Method, string Target, string Auth, string Headers, string Body, int BodyLength,
        int Status, string ResponseBody, string? Error, bool MayCloseWithoutResponse, TimeSpan Elapsed)
    {
        public bool IsFailure => Status >= 500 || (Status <= 0 && (!MayCloseWithoutResponse || Error?.StartsWith("no answer", StringComparison.Ordinal) == true));

        public static FuzzResult Of(int index, FuzzRequest request, RawResponse response)
        {
            var method = request.RequestLine?.Split(' ')[0] ?? request.Method;
            var target = request.RequestLine is { } line ? $"(request line) {line}" : request.Target;
            var headers = string.Join("; ", request.Headers
                .Where(h => !h.Key.Equals("X-Api-Key", StringComparison.OrdinalIgnoreCase))
                .Select(h => $"{h.Key}: {Short(h.Value, 80)}"));
            var body = request.Body is null ? "" : Short(Encoding.UTF8.GetString(request.Body, 0, Math.Min(request.Body.Length, 600)), 300);
            return new FuzzResult(index, request.Fault, request.Route, method, target, request.AuthLabel, headers, body, request.Body?.Length ?? 0,
                response.Status, response.Body, response.Error, request.MayCloseWithoutResponse, response.Elapsed);
        }

        /// <summary>The status (or what happened instead) and the exception the API logged for it, or the start of its answer.</summary>
        public string Cause(string[] lines)
        {
            var what = Status > 0 ? Status.ToString(System.Globalization.CultureInfo.InvariantCulture) : Error ?? "no answer";
            var cause = Status >= 500 && HostLogs.ForTrace(lines, ResponseBody) is { } entry ? HostLogs.Signature(entry) : Short(ResponseBody, 120);
            return $"{what}: {cause}";
        }

        /// <summary>One line per request, for MA_FUZZ_RESULTS.</summary>
        public string Line() =>
            $"#{Index}\t{Fault}\t{Route}\t{(Status > 0 ? Status : Error)}\t{Method} {Short(Target, 200)}\t{Auth}\t{Short(Headers, 150)}\t{BodyLength}\t{Short(Body, 150)}\t{Short(ResponseBody, 150)}";

        public string Describe(string[] lines)
        {
            var text = new StringBuilder();
            text.Append($"#{Index} [{Fault}] {Route} -> {(Status > 0 ? Status.ToString(System.Globalization.CultureInfo.InvariantCulture) : "no answer")} in {Elapsed.TotalMilliseconds:0} ms\n");
            text.Append($"    {Method} {Short(Target, 400)}\n");
            text.Append($"    auth: {Auth}; headers: {(Headers.Length == 0 ? "-" : Headers)}\n");
            if (BodyLength > 0)
            {
                text.Append($"    body ({BodyLength} bytes): {Body}\n");
            }

            if (Error is not null)
            {
                text.Append($"    error: {Error}\n");
            }

            if (ResponseBody.Length > 0)
            {
                text.Append($"    response: {Short(ResponseBody, 400)}\n");
            }

            if (Status >= 500 && HostLogs.ForTrace(lines, ResponseBody) is { } entry)
            {
                text.Append("    server: ").Append(string.Join("\n            ", HostLogs.Essentials(entry))).Append('\n');
            }

            return text.ToString();
        }
    }
}
