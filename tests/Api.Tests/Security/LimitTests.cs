using System.Net;
using System.Text;
using System.Text.Json;
using MediaActors.Api.Tests.EndToEnd;
using MediaActors.Api.Tests.Hardening;

namespace MediaActors.Api.Tests.Security;

/// <summary>
/// One API host for <see cref="RequestLimitTests"/>, without a silo: none of these requests may reach the runtime, and
/// without a silo nothing moves in the database in the background, so a snapshot before and after a request shows exactly
/// what the request stored.
/// </summary>
public sealed class RequestLimitFixture : IAsyncLifetime
{
    public PipelineCluster Cluster { get; private set; } = null!;

    public IPEndPoint Endpoint => new(IPAddress.Loopback, Cluster.Http.BaseAddress!.Port);

    // No silo: the API validates and refuses on its own (grain calls would answer 503).
    public async Task InitializeAsync() => Cluster = await PipelineCluster.StartAsync(silos: 0);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// The API's request limits (README, "Limits"): JSON nested at most 32 deep, a body of at most Limits:MaxRequestBodyBytes
/// (with a Content-Length or chunked), and the length limits of the string fields. Each refusal is problem+json with a detail
/// that says which limit, stores nothing, and a request exactly at a limit is not refused for it. (The rate limit and the
/// in-flight limit are not tested here; the rate limit is in <see cref="LimitTests"/>.)
/// </summary>
public sealed class RequestLimitTests(RequestLimitFixture fixture) : IClassFixture<RequestLimitFixture>
{
    /// <summary>Program.cs: the serializer's MaxDepth.</summary>
    private const int MaxDepth = 32;

    /// <summary>Limits:MaxRequestBodyBytes, not overridden by the test cluster.</summary>
    private static readonly long MaxBodyBytes = new LimitOptions().MaxRequestBodyBytes;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private PipelineCluster Cluster => fixture.Cluster;

    // ---- JSON depth -------------------------------------------------------------------------------------------------

    [Fact]
    public void The_depth_helper_counts_levels_as_the_serializer_and_the_guard_do()
    {
        var serializer = new JsonSerializerOptions(JsonSerializerDefaults.Web) { MaxDepth = MaxDepth };
        foreach (var shape in new[] { '[', '{' })
        {
            for (var depth = 1; depth <= MaxDepth + 8; depth++)
            {
                var body = Encoding.UTF8.GetBytes(WithDepth("\"name\":\"k\"", depth, shape));
                var serializerRefuses = Throws(() => JsonSerializer.Deserialize<JsonElement>(body, serializer));
                Assert.True(serializerRefuses == depth > MaxDepth, $"serializer at depth {depth} ({shape}): refused {serializerRefuses}");
                Assert.Equal(depth > MaxDepth, RequestGuards.IsNestedTooDeep(body, MaxDepth));
                Assert.Equal(depth > MaxDepth, RequestGuards.IsNestedTooDeep(Encoding.UTF8.GetPreamble().Concat(body).ToArray(), MaxDepth));
            }
        }

        // Malformed JSON is not the guard's business (the binding refuses it), however deep it gets after the error.
        Assert.False(RequestGuards.IsNestedTooDeep("{\"a\":1,,"u8.ToArray().Concat(Encoding.UTF8.GetBytes(new string('[', 100))).ToArray(), MaxDepth));
    }

    [Theory]
    [InlineData("/api/keys", '[', MaxDepth + 1)]
    [InlineData("/api/keys", '{', MaxDepth + 1)]
    [InlineData("/api/keys", '[', 100_000)]
    [InlineData("/api/projects", '[', MaxDepth + 1)]
    [InlineData("/api/projects", '{', MaxDepth + 1)]
    [InlineData("/api/projects", '{', 100_000)]
    [InlineData("/api/uploads", '[', MaxDepth + 1)]
    [InlineData("/api/uploads", '{', 1_000)]
    public async Task Json_nested_deeper_than_32_is_refused_with_400_problem_and_nothing_is_stored(string path, char shape, int depth)
    {
        // Apart from the deep member, the body is a valid creation: only the depth limit stands between it and a new row.
        var body = WithDepth(ValidFields(path), depth, shape);

        var answer = await AssertNothingStoredAsync(() => PostAsync(path, body, BodyFraming.ContentLength));

        answer.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Contains($"nested more than {MaxDepth} levels deep", answer.Detail);
    }

    [Theory]
    [InlineData('[', MaxDepth)]
    [InlineData('{', MaxDepth)]
    [InlineData('[', MaxDepth - 1)]
    public async Task Json_nested_exactly_32_deep_is_not_refused_for_depth(char shape, int depth)
    {
        // An API key: created, the deep member ignored.
        var key = await PostAsync("/api/keys", WithDepth("\"name\":\"deep but allowed\"", depth, shape), BodyFraming.ContentLength);
        Assert.True(key.Status == HttpStatusCode.Created, key.ToString());

        // A project without uploadId or url: refused, but for that and not for the depth.
        var project = await PostAsync("/api/projects", WithDepth("\"title\":\"t\"", depth, shape), BodyFraming.ContentLength);
        project.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Contains("exactly one of uploadId", project.Detail);
        AssertNotAboutDepth(project);

        // An upload of 0 bytes: refused for sizeBytes only.
        var upload = await PostAsync("/api/uploads", WithDepth("\"fileName\":\"a.mp4\",\"contentType\":\"video/mp4\",\"sizeBytes\":0", depth, shape), BodyFraming.ContentLength);
        upload.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Equal(new[] { "sizeBytes" }, upload.ErrorFields);
        AssertNotAboutDepth(upload);
    }

    // ---- Body size --------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("/api/keys", BodyFraming.ContentLength, 1)]
    [InlineData("/api/keys", BodyFraming.Chunked, 1)]
    [InlineData("/api/projects", BodyFraming.ContentLength, 1)]
    [InlineData("/api/projects", BodyFraming.Chunked, 1)]
    [InlineData("/api/uploads", BodyFraming.ContentLength, 1)]
    [InlineData("/api/uploads", BodyFraming.Chunked, 1)]
    [InlineData("/api/keys", BodyFraming.ContentLength, 3 * 1024 * 1024)]
    [InlineData("/api/keys", BodyFraming.Chunked, 3 * 1024 * 1024)]
    public async Task A_body_over_MaxRequestBodyBytes_is_refused_with_413_problem_and_nothing_is_stored(string path, BodyFraming framing, int over)
    {
        // A valid creation padded with an unknown member to the limit plus `over` bytes.
        var body = Padded(ValidFields(path), MaxBodyBytes + over);

        var answer = await AssertNothingStoredAsync(() => PostAsync(path, body, framing));

        answer.AssertProblem(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains($"larger than {MaxBodyBytes} bytes", answer.Detail);
    }

    [Theory]
    [InlineData(BodyFraming.ContentLength, 0)]
    [InlineData(BodyFraming.Chunked, 0)]
    [InlineData(BodyFraming.ContentLength, 1)]
    [InlineData(BodyFraming.Chunked, 1)]
    public async Task A_body_at_or_just_under_MaxRequestBodyBytes_is_not_refused(BodyFraming framing, int under)
    {
        // Chunked, the chunk framing does not count: the limit is on the body's bytes.
        var key = await PostAsync("/api/keys", Padded("\"name\":\"big but allowed\"", MaxBodyBytes - under), framing);
        Assert.True(key.Status == HttpStatusCode.Created, key.ToString());

        var project = await PostAsync("/api/projects", Padded("\"title\":\"t\"", MaxBodyBytes - under), framing);
        project.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Contains("exactly one of uploadId", project.Detail);
    }

    // ---- String lengths ---------------------------------------------------------------------------------------------

    public static TheoryData<string, string, string, string> OverLongFields => new()
    {
        // name of the case, path, body, what the problem must name (a detail fragment, or "errors:field")
        { "project title of 201", "/api/projects", Json(new { title = new string('t', 201), url = "http://127.0.0.1:9/a.mp4" }), "title must be at most 200 characters" },
        { "project url of 2049", "/api/projects", Json(new { url = Url("http://127.0.0.1:9/", 2049) }), "longer than 2048 characters" },
        { "key name of 101", "/api/keys", Json(new { name = new string('k', 101) }), "1 to 100 characters" },
        { "upload fileName of 256", "/api/uploads", Json(new { fileName = new string('f', 252) + ".mp4", contentType = "video/mp4", sizeBytes = 1000 }), "errors:fileName" },
        { "upload contentType of 101", "/api/uploads", Json(new { fileName = "a.mp4", contentType = "video/" + new string('m', 95), sizeBytes = 1000 }), "errors:contentType" },
    };

    [Theory]
    [MemberData(nameof(OverLongFields))]
    public async Task An_over_long_string_field_is_refused_with_400_problem_and_nothing_is_stored(string name, string path, string body, string expected)
    {
        var answer = await AssertNothingStoredAsync(() => PostAsync(path, body, BodyFraming.ContentLength));

        answer.AssertProblem(HttpStatusCode.BadRequest, name);
        if (expected.StartsWith("errors:", StringComparison.Ordinal))
        {
            Assert.Equal(new[] { expected["errors:".Length..] }, answer.ErrorFields);
        }
        else
        {
            Assert.Contains(expected, answer.Detail);
        }
    }

    [Theory]
    [InlineData("/api/projects", "{\"title\":5,\"url\":\"http://127.0.0.1:9/a.mp4\"}", "the value at $.title has the wrong type (line 1, byte 11)")]
    [InlineData("/api/projects", "{\"title\":{\"a\":1}}", "the value at $.title has the wrong type")]
    [InlineData("/api/projects", "{\"url\":[\"http://127.0.0.1:9/a.mp4\"]}", "$.url")]
    [InlineData("/api/keys", "{\"name\":\"cut short", "not valid JSON")]
    [InlineData("/api/keys", "{\"name\":\"a\",}", "not valid JSON")]
    [InlineData("/api/uploads", "{\"fileName\":\"a.mp4\",\"contentType\":\"video/mp4\",\"sizeBytes\":\"big\"}", "$.sizeBytes")]
    [InlineData("/api/uploads", "[1,2,3]", "the body has the wrong shape (an object is expected)")]
    public async Task Malformed_json_or_a_wrong_type_is_refused_with_400_problem_that_says_where(string path, string body, string expected)
    {
        var answer = await AssertNothingStoredAsync(() => PostAsync(path, body, BodyFraming.ContentLength));

        answer.AssertProblem(HttpStatusCode.BadRequest, path);
        Assert.StartsWith("The request body is not valid JSON for this request: ", answer.Detail);
        Assert.Contains(expected, answer.Detail);
        // In the client's terms: no .NET type names.
        Assert.DoesNotContain("MediaActors", answer.Detail);
        Assert.DoesNotContain("System.", answer.Detail);
    }

    [Fact]
    public async Task A_json_body_with_a_utf8_byte_order_mark_is_accepted()
    {
        var request = new FuzzRequest
        {
            Method = "POST",
            Target = "/api/keys",
            Body = [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes("{\"name\":\"with a bom\"}")],
            Framing = BodyFraming.ContentLength,
        };
        request.Header("X-Api-Key", Cluster.ApiKey);
        request.Header("Content-Type", "application/json");

        var response = await RawHttp.SendAsync(fixture.Endpoint, request, Timeout);

        Assert.True(response.Status == 201, $"expected 201, got {response.Status}: {response.Body}");
    }

    [Fact]
    public async Task A_search_query_over_500_characters_is_refused_with_400_problem_and_one_of_500_is_not()
    {
        var over = await Answer.OfAsync(await Cluster.Http.GetAsync("/api/search?q=" + new string('q', 501)));
        over.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Contains("1 to 500 characters", over.Detail);

        var at = await Cluster.Http.GetAsync("/api/search?q=" + new string('q', 500));
        Assert.Equal(HttpStatusCode.OK, at.StatusCode);
    }

    [Fact]
    public async Task String_fields_exactly_at_their_limit_are_not_refused_for_length()
    {
        var key = await PostAsync("/api/keys", Json(new { name = new string('k', 100) }), BodyFraming.ContentLength);
        Assert.True(key.Status == HttpStatusCode.Created, key.ToString());

        // Refused for another reason each (so that nothing needs a silo), never for the length.
        var title = await PostAsync("/api/projects", Json(new { title = new string('t', 200) }), BodyFraming.ContentLength);
        title.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Contains("exactly one of uploadId", title.Detail);

        var url = await PostAsync("/api/projects", Json(new { url = Url("ftp://127.0.0.1/", 2048) }), BodyFraming.ContentLength);
        url.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Contains("Only http and https links", url.Detail);

        var fileName = await PostAsync("/api/uploads", Json(new { fileName = new string('f', 251) + ".mp4", contentType = "video/mp4", sizeBytes = 0 }), BodyFraming.ContentLength);
        fileName.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Equal(new[] { "sizeBytes" }, fileName.ErrorFields);

        var contentType = await PostAsync("/api/uploads", Json(new { fileName = "a.mp4", contentType = "video/" + new string('m', 94), sizeBytes = 0 }), BodyFraming.ContentLength);
        contentType.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Equal(new[] { "sizeBytes" }, contentType.ErrorFields);
    }

    // ---- Helpers ----------------------------------------------------------------------------------------------------

    /// <summary>Members that make a valid creation on each route (the project's link is never fetched: no silo runs).</summary>
    private static string ValidFields(string path) => path switch
    {
        "/api/keys" => "\"name\":\"limit test\"",
        "/api/uploads" => "\"fileName\":\"limit.mp4\",\"contentType\":\"video/mp4\",\"sizeBytes\":1000",
        "/api/projects" => "\"title\":\"limit test\",\"url\":\"http://127.0.0.1:9/limit.mp4\"",
        _ => throw new ArgumentOutOfRangeException(nameof(path)),
    };

    /// <summary>
    /// An object with <paramref name="fields"/> and a member "x" that nests arrays ('[') or objects ('{') so that the whole
    /// body is <paramref name="depth"/> levels deep, the root object counting as 1 (as the serializer's MaxDepth counts).
    /// </summary>
    private static string WithDepth(string fields, int depth, char shape)
    {
        var levels = depth - 1;
        var (open, close) = shape == '[' ? ("[", "]") : ("{\"a\":", "}");
        return "{" + fields + ",\"x\":" + string.Concat(Enumerable.Repeat(open, levels)) + "1" + string.Concat(Enumerable.Repeat(close, levels)) + "}";
    }

    /// <summary>An object with <paramref name="fields"/> and a member "pad" that makes it exactly <paramref name="bytes"/> bytes of UTF-8.</summary>
    private static string Padded(string fields, long bytes)
    {
        var head = "{" + fields + ",\"pad\":\"";
        const string tail = "\"}";
        var body = head + new string('p', checked((int)(bytes - head.Length - tail.Length))) + tail;
        Assert.Equal(bytes, Encoding.UTF8.GetByteCount(body));
        return body;
    }

    private static string Url(string prefix, int length) => prefix + new string('a', length - prefix.Length);

    private static string Json(object value) => JsonSerializer.Serialize(value);

    private static bool Throws(Action action)
    {
        try
        {
            action();
            return false;
        }
        catch (JsonException)
        {
            return true;
        }
    }

    private static void AssertNotAboutDepth(Answer answer)
    {
        var text = (answer.Detail ?? "") + " " + answer.Body;
        Assert.DoesNotContain("deep", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("depth", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("nested", text, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Sends one POST over a socket (so that the framing is exactly the one asked for) with the development key.</summary>
    private async Task<Answer> PostAsync(string path, string body, BodyFraming framing)
    {
        var request = new FuzzRequest { Method = "POST", Target = path, Body = Encoding.UTF8.GetBytes(body), Framing = framing };
        request.Header("X-Api-Key", Cluster.ApiKey);
        request.Header("Content-Type", "application/json");
        var response = await RawHttp.SendAsync(fixture.Endpoint, request, Timeout);
        Assert.True(response.HasStatus, $"POST {path} ({framing}, {request.Body.Length} bytes) got no answer: {response.Error}");
        return Answer.Of(response);
    }

    /// <summary>Runs <paramref name="send"/> and fails if any row of the database changed (<see cref="DatabaseSnapshot"/>).</summary>
    private async Task<Answer> AssertNothingStoredAsync(Func<Task<Answer>> send)
    {
        var before = await DatabaseSnapshot.TakeAsync(Cluster.Database.ConnectionString);
        var answer = await send();
        var after = await DatabaseSnapshot.TakeAsync(Cluster.Database.ConnectionString);
        var changes = after.DifferencesFrom(before);
        Assert.True(changes.Length == 0, $"The request was answered {answer} and the database changed:\n{changes}");
        return answer;
    }

    /// <summary>A status, the response's media type and its problem+json fields.</summary>
    private sealed record Answer(HttpStatusCode Status, string? MediaType, string Body)
    {
        public string? Detail => Problem is { } p && p.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;

        /// <summary>The names in a validation problem's "errors", sorted; empty when there are none.</summary>
        public string[] ErrorFields => Problem is { } p && p.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object
            ? [.. e.EnumerateObject().Select(f => f.Name).Order(StringComparer.Ordinal)]
            : [];

        private JsonElement? Problem
        {
            get
            {
                try
                {
                    return JsonDocument.Parse(Body).RootElement.Clone();
                }
                catch (JsonException)
                {
                    return null;
                }
            }
        }

        public static Answer Of(RawResponse response)
        {
            var contentType = response.Head.Split("\r\n").Skip(1)
                .Select(line => line.Split(':', 2))
                .Where(parts => parts.Length == 2 && parts[0].Trim().Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                .Select(parts => parts[1].Split(';')[0].Trim())
                .FirstOrDefault();
            return new Answer((HttpStatusCode)response.Status, contentType, response.Body);
        }

        public static async Task<Answer> OfAsync(HttpResponseMessage response) =>
            new(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());

        /// <summary>The status, problem+json, a problem whose status matches, and a detail.</summary>
        public void AssertProblem(HttpStatusCode status, string? what = null)
        {
            Assert.True(Status == status, $"{what} expected {(int)status}, got {this}");
            Assert.True(MediaType == "application/problem+json", $"{what} expected application/problem+json, got {this}");
            Assert.True(Problem is { } p && p.TryGetProperty("status", out var s) && s.GetInt32() == (int)status, $"{what} not a problem of status {(int)status}: {this}");
            Assert.False(string.IsNullOrWhiteSpace(Detail), $"{what} the problem has no detail: {this}");
        }

        public override string ToString() => $"{(int)Status} {MediaType}: {(Body.Length > 600 ? Body[..600] + "..." : Body)}";
    }
}
