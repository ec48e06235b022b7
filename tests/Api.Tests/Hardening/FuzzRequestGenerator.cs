using System.Globalization;
using System.Text;

namespace MediaActors.Api.Tests.Hardening;

/// <summary>
/// Generates malformed requests across every route of the API, deterministically: request i depends only on the seed, i and
/// the set-up's ids and tokens. Each request has one main fault (bad JSON, wrong types, huge values, unicode, bad query, bad id,
/// path trick, wrong method, bad API key, bad JWT, bad content type, bad framing or headers), sometimes a second one, and is
/// checked by <see cref="FuzzSafety"/> before it is sent.
/// </summary>
public sealed class FuzzRequestGenerator(FuzzTargets targets, int seed)
{
    private static readonly (string Name, int Weight)[] Faults =
    [
        ("bad-json", 16), ("wrong-types", 14), ("huge-values", 6), ("unicode", 9), ("bad-query", 14), ("bad-id", 9),
        ("path-trick", 9), ("wrong-method", 8), ("bad-auth", 6), ("bad-jwt", 6), ("bad-content-type", 5), ("bad-framing", 4),
    ];

    private static readonly Route[] AllRoutes = Enum.GetValues<Route>();

    private static readonly Route[] IdRoutes =
    [
        Route.CompleteUpload, Route.GetProject, Route.Transcript, Route.TranscriptFormat, Route.Analysis, Route.Content,
        Route.Events, Route.EventStream, Route.Cancel, Route.Retry, Route.DeleteProject, Route.RevokeKey,
    ];

    private static readonly Route[] QueryRoutes =
    [
        Route.ListProjects, Route.ListProjects, Route.ListProjects, Route.Search, Route.Search, Route.Search, Route.Events, Route.Events,
        Route.EventStream, Route.EventStream, Route.Negotiate, Route.Hub, Route.GetProject, Route.TranscriptFormat, Route.Health, Route.OpenApi,
        Route.ListKeys,
    ];

    private static readonly Route[] PostRoutes =
        [Route.CreateUpload, Route.CreateProject, Route.CreateKey, Route.CompleteUpload, Route.Cancel, Route.Retry, Route.Negotiate];

    private static readonly Route[] CreateRoutes = [Route.CreateUpload, Route.CreateUpload, Route.CreateProject, Route.CreateProject, Route.CreateKey];

    private int _regenerated;

    public enum Route
    {
        CreateUpload, CompleteUpload, CreateProject, ListProjects, GetProject, Transcript, TranscriptFormat, Analysis, Content,
        Events, EventStream, Cancel, Retry, DeleteProject, Search, Health, OpenApi, Negotiate, Hub, CreateKey, ListKeys, RevokeKey,
    }

    /// <summary>Requests that came out as legitimate changes and were generated again (see <see cref="FuzzSafety"/>).</summary>
    public int Regenerated => Volatile.Read(ref _regenerated);

    public FuzzRequest Generate(int index)
    {
        var random = new Random(unchecked((seed * 7919) + index));
        for (var attempt = 0; ; attempt++)
        {
            var request = Build(random);
            if (FuzzSafety.WhyUnsafe(request, targets) is null)
            {
                return request;
            }

            Interlocked.Increment(ref _regenerated);
            if (attempt > 1000)
            {
                throw new InvalidOperationException("The generator keeps producing legitimate changes.");
            }
        }
    }

    private FuzzRequest Build(Random r)
    {
        var fault = WeightedFault(r);
        var request = fault switch
        {
            "bad-json" => BadJson(r),
            "wrong-types" => WrongTypes(r),
            "huge-values" => HugeValues(r),
            "unicode" => Unicode(r),
            "bad-query" => BadQuery(r),
            "bad-id" => BadId(r),
            "path-trick" => PathTrick(r),
            "wrong-method" => WrongMethod(r),
            "bad-auth" => BadAuth(r),
            "bad-jwt" => BadJwt(r),
            "bad-content-type" => BadContentType(r),
            _ => BadFraming(r),
        };
        request.Fault = fault;

        // Sometimes a second fault on top: junk query parameters or a junk header.
        if (r.Chance(0.1) && request.RequestLine is null)
        {
            request.Target += (request.Target.Contains('?') ? "&" : "?") + JunkQuery(r, ["x", "format", "q", "limit", "after", "cursor", "status", "id"]);
            request.Fault += "+query";
        }

        if (r.Chance(0.05))
        {
            var (name, value) = JunkHeader(r);
            request.Header(name, value);
            request.Fault += "+header";
        }

        return request;
    }

    private static string WeightedFault(Random r)
    {
        var total = Faults.Sum(f => f.Weight);
        var pick = r.Next(total);
        foreach (var (name, weight) in Faults)
        {
            if (pick < weight)
            {
                return name;
            }

            pick -= weight;
        }

        return Faults[^1].Name;
    }

    // ---------------------------------------------------------------- routes

    private static string Label(Route route) => route switch
    {
        Route.CreateUpload => "POST /api/uploads",
        Route.CompleteUpload => "POST /api/uploads/{id}/complete",
        Route.CreateProject => "POST /api/projects",
        Route.ListProjects => "GET /api/projects",
        Route.GetProject => "GET /api/projects/{id}",
        Route.Transcript => "GET /api/projects/{id}/transcript",
        Route.TranscriptFormat => "GET /api/projects/{id}/transcript.{format}",
        Route.Analysis => "GET /api/projects/{id}/analysis",
        Route.Content => "GET /api/projects/{id}/content",
        Route.Events => "GET /api/projects/{id}/events",
        Route.EventStream => "GET /api/projects/{id}/events/stream",
        Route.Cancel => "POST /api/projects/{id}/cancel",
        Route.Retry => "POST /api/projects/{id}/retry",
        Route.DeleteProject => "DELETE /api/projects/{id}",
        Route.Search => "GET /api/search",
        Route.Health => "GET /health",
        Route.OpenApi => "GET /openapi/v1.json",
        Route.Negotiate => "POST /hubs/projects/negotiate",
        Route.CreateKey => "POST /api/keys",
        Route.ListKeys => "GET /api/keys",
        Route.RevokeKey => "DELETE /api/keys/{id}",
        _ => "GET /hubs/projects",
    };

    private static string MethodOf(Route route) => Label(route).Split(' ')[0];

    private static bool Mutates(Route route) => route is Route.CompleteUpload or Route.Cancel or Route.Retry or Route.DeleteProject or Route.RevokeKey;

    private static string PathOf(Route route, string id, Random r) => route switch
    {
        Route.CreateUpload => "/api/uploads",
        Route.CompleteUpload => $"/api/uploads/{id}/complete",
        Route.CreateProject => "/api/projects",
        Route.ListProjects => "/api/projects",
        Route.GetProject => $"/api/projects/{id}",
        Route.Transcript => $"/api/projects/{id}/transcript",
        Route.TranscriptFormat => $"/api/projects/{id}/transcript.{r.Pick("srt", "vtt", "txt", "json", "SRT", "Vtt", "xml", "srt.exe", "", "srt%00", "srt%2f..%2f..", "%73rt", "srt.", "..", "srt;", "pdf", "html")}",
        Route.Analysis => $"/api/projects/{id}/analysis",
        Route.Content => $"/api/projects/{id}/content",
        Route.Events => $"/api/projects/{id}/events",
        Route.EventStream => $"/api/projects/{id}/events/stream",
        Route.Cancel => $"/api/projects/{id}/cancel",
        Route.Retry => $"/api/projects/{id}/retry",
        Route.DeleteProject => $"/api/projects/{id}",
        Route.Search => "/api/search",
        Route.Health => "/health",
        Route.OpenApi => "/openapi/v1.json",
        Route.Negotiate => "/hubs/projects/negotiate",
        Route.CreateKey or Route.ListKeys => "/api/keys",
        Route.RevokeKey => $"/api/keys/{id}",
        _ => "/hubs/projects",
    };

    /// <summary>A request to a route as a client would normally send it (valid key, its method), ready to be broken.</summary>
    private FuzzRequest Base(Random r, Route route, string? id = null, string? method = null)
    {
        id ??= Mutates(route) ? WriteId(r) : ReadId(r);
        var request = new FuzzRequest
        {
            Route = Label(route),
            Method = method ?? MethodOf(route),
            Target = PathOf(route, id, r),
            HeadersOnly = route == Route.EventStream,
        };
        Auth(request, r, valid: true);
        if (route == Route.Negotiate && r.Chance(0.7))
        {
            request.Target += "?negotiateVersion=1";
        }

        return request;
    }

    // ---------------------------------------------------------------- ids

    /// <summary>Ids for routes that only read: the real project in every spelling the guid constraint accepts, and others.</summary>
    private string ReadId(Random r)
    {
        var p = targets.ProjectId;
        return r.Next(100) switch
        {
            < 40 => p.ToString(),
            < 44 => p.ToString("N"),
            < 46 => p.ToString("B"),
            < 48 => p.ToString("P"),
            < 50 => p.ToString().ToUpperInvariant(),
            < 58 => targets.UploadId.ToString(),
            < 72 => RandomGuid(r).ToString(),
            < 75 => Guid.Empty.ToString(),
            _ => InvalidId(r),
        };
    }

    /// <summary>Ids for routes that change things: never the real project.</summary>
    private string WriteId(Random r) => r.Next(100) switch
    {
        < 25 => targets.UploadId.ToString(),
        < 55 => RandomGuid(r).ToString(r.Pick("D", "D", "N", "B")),
        < 62 => Guid.Empty.ToString(),
        _ => InvalidId(r),
    };

    private static Guid RandomGuid(Random r)
    {
        var bytes = new byte[16];
        r.NextBytes(bytes);
        return new Guid(bytes);
    }

    private static string InvalidId(Random r)
    {
        var g = RandomGuid(r).ToString();
        return r.Pick(
            "not-a-guid", "0", "-1", "1e309", "99999999999999999999999999999", "null", "undefined", "true", "NaN", "%00", "%2e%2e", "..", ".",
            "%2F", "%252F", "%c0%ae%c0%ae", "%ED%A0%80", "%F0%9F%98%80", "%E2%80%AE" + g, "%E2%80%8B", "%zz", "%", "%%", "a%20b", "%27%20OR%201=1--",
            "%3Cscript%3E", "%7B%7D", "()", g + "0", g[..^1], g.Replace('a', 'g'), "%20" + g, g + "%00", g + "%0A", g + "%0D%0AX-Injected:%201",
            "0x" + g.Replace("-", ""), g.Replace("-", "") + "-", g.ToUpperInvariant().Replace('-', '_'), g + ".json", g + "%2F..", "%7B" + g,
            "%EF%BC%90" + g[1..], "%D9%A1", "%C0%80", new string('9', r.Next(40, 2000)), new string('a', r.Pick(300, 3000, 9000)),
            "~", "*", "%2A", "$", "@", "CON", "..%5c..%5cwindows", "%5C", "%09", "%7F", g.Replace('-', ' ').Replace(" ", "%20"));
    }

    // ---------------------------------------------------------------- auth

    private void Auth(FuzzRequest request, Random r, bool valid)
    {
        var key = targets.ApiKey;
        if (valid)
        {
            if (r.Chance(0.1))
            {
                request.Header("Authorization", "Bearer " + targets.Jwt);
                request.AuthLabel = "jwt";
                return;
            }

            request.Header(r.Chance(0.05) ? r.Pick("x-api-key", "X-API-KEY") : "X-Api-Key", key);
            request.AuthLabel = "key";
            return;
        }

        if (r.Chance(0.3))
        {
            var (label, token) = r.Pick(targets.BadJwts.ToArray());
            if (r.Chance(0.8))
            {
                request.Header("Authorization", r.Pick("Bearer ", "Bearer ", "Bearer ", "bearer ", "Bearer  ") + token);
                request.AuthLabel = label;
            }
            else
            {
                request.Target += (request.Target.Contains('?') ? "&" : "?") + "access_token=" + Uri.EscapeDataString(token);
                request.AuthLabel = label + " as access_token";
            }

            return;
        }

        switch (r.Next(17))
        {
            case 0:
                request.AuthLabel = "no key";
                break;
            case 1:
                request.Header("X-Api-Key", "");
                request.AuthLabel = "empty key";
                break;
            case 2:
                request.Header("X-Api-Key", "ma_" + RandomAscii(r, 40));
                request.AuthLabel = "unknown ma_ key";
                break;
            case 3:
                request.Header("X-Api-Key", "ma_" + new string('A', r.Pick(201, 5000)));
                request.AuthLabel = "long key";
                break;
            case 4:
                request.Header("X-Api-Key", key);
                request.Header("X-Api-Key", r.Chance(0.5) ? key : "ma_junk");
                request.AuthLabel = "duplicated key header";
                break;
            case 5:
                request.Header("X-Api-Key", key + ", " + key);
                request.AuthLabel = "comma-joined keys";
                break;
            case 6:
                request.Header("X-Api-Key", key.ToUpperInvariant());
                request.AuthLabel = "key in upper case";
                break;
            case 7:
                request.Header("X-Api-Key", key[..^1]);
                request.AuthLabel = "truncated key";
                break;
            case 8:
                request.Header("X-Api-Key", key + "\u00e9\u202e");
                request.AuthLabel = "key with non-ASCII bytes";
                break;
            case 9:
                request.Header("Authorization", r.Pick("Bearer ma_" + RandomAscii(r, 40), "Bearer", "Bearer ", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("dev:" + key)), "Bearer " + key + " x", "bearer " + key, "Bearer\t" + key));
                request.AuthLabel = "authorization header";
                break;
            case 10:
                request.Header("X-Api-Key", r.Pick("null", "undefined", "' OR 1=1 --", "ma_", "ma_%00", "%00", "ma_" + key, " ", "\t"));
                request.AuthLabel = "junk key";
                break;
            case 11:
                request.Target += (request.Target.Contains('?') ? "&" : "?") + "access_token=" + r.Pick("ma_junk", Uri.EscapeDataString(key), "", "%00", Uri.EscapeDataString(key) + "&access_token=" + Uri.EscapeDataString(key));
                request.AuthLabel = "access_token query";
                break;
            case 12:
                request.Header("X-Api-Key", "ma_" + RandomAscii(r, r.Next(0, 12)));
                request.AuthLabel = "short ma_ key";
                break;
            case 13:
                request.Header("X-Api-Key", new string('x', 20_000));
                request.AuthLabel = "20 KB key header";
                break;
            case 14:
                request.Header("X-Api-Key", key + "\0");
                request.AuthLabel = "key with NUL";
                break;
            case 15:
                request.Header("Cookie", "X-Api-Key=" + key);
                request.AuthLabel = "key as cookie";
                break;
            default:
                request.Header("X-Api-Key", key);
                request.Header("Authorization", "Bearer ma_" + RandomAscii(r, 40));
                request.AuthLabel = "key and bearer";
                break;
        }
    }

    // ---------------------------------------------------------------- faults

    private FuzzRequest BadJson(Random r)
    {
        var route = r.Chance(0.8) ? r.Pick(CreateRoutes) : r.Pick(PostRoutes);
        var request = Base(r, route);
        Json(request, BrokenJson(r));
        return request;
    }

    private FuzzRequest WrongTypes(Random r)
    {
        var route = r.Pick(CreateRoutes);
        var request = Base(r, route);
        Json(request, Creation(r, route, wrongTypes: true));
        return request;
    }

    private FuzzRequest HugeValues(Random r)
    {
        switch (r.Next(5))
        {
            case 4:
            {
                var request = Base(r, Route.CreateKey);
                Json(request, r.Chance(0.5)
                    ? $"{{\"name\":{J.Str(new string('k', HugeLength(r, 101)), r)}}}"
                    : $"{{\"name\":\"ok\\u0000\",\"padding\":{J.Str(new string('p', HugeLength(r, 1000)), r)}}}");
                return request;
            }

            case 0:
            {
                var request = Base(r, Route.CreateUpload);
                var size = r.Pick("9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "5368709121",
                    "1" + new string('0', r.Pick(30, 400, 100_000)), "1e309", "-1e309", "1e999999999", "4.9e-324", "1.7976931348623157e308", "18446744073709551616");
                var name = r.Chance(0.2) ? J.Str(new string('n', HugeLength(r, 256)), r) : J.Str("talk.mp4", r);
                Json(request, $"{{\"fileName\":{name},\"contentType\":\"video/mp4\",\"sizeBytes\":{size}}}");
                return request;
            }

            case 1:
            {
                var request = Base(r, Route.CreateProject);
                Json(request, r.Next(4) switch
                {
                    0 => $"{{\"title\":{J.Str(new string('t', HugeLength(r, 201)), r)},\"url\":\"http://127.0.0.1/a.mp4\"}}",
                    1 => $"{{\"url\":{J.Str("http://127.0.0.1/" + new string('a', HugeLength(r, 2100)), r)}}}",
                    2 => $"{{\"uploadId\":{J.Str(new string('f', HugeLength(r, 100)), r)}}}",
                    _ => "{\"uploadId\":\"" + RandomGuid(r) + "\",\"extra\":[" + string.Join(',', Enumerable.Repeat("1e308", r.Next(1000, 170_000))) + "]}",
                });
                return request;
            }

            case 2:
            {
                // Huge or extreme numbers in query strings.
                var route = r.Pick(Route.ListProjects, Route.Search, Route.Events, Route.EventStream);
                var request = Base(r, route);
                var big = r.Pick("2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                    "1" + new string('0', r.Pick(50, 4000)), "1e309", "NaN", "Infinity", "-0", "0.0000000001");
                var name = route switch
                {
                    Route.Events or Route.EventStream => r.Pick("after", "limit"),
                    _ => "limit",
                };
                request.Target += $"?{name}={big}" + (route == Route.Search ? "&q=battery" : "");
                return request;
            }

            default:
            {
                // Many members or many query parameters.
                if (r.Chance(0.5))
                {
                    var request = Base(r, r.Pick(CreateRoutes));
                    var members = string.Join(',', Enumerable.Range(0, r.Next(1000, 60_000)).Select(i => $"\"k{i}\":{i}"));
                    Json(request, "{" + members + ",\"sizeBytes\":-1,\"title\":\"\\u0000\"}");
                    return request;
                }

                var list = Base(r, Route.ListProjects);
                list.Target += "?" + string.Join('&', Enumerable.Range(0, r.Next(50, 600)).Select(i => $"status=failed&p{i}={i}"));
                return list;
            }
        }
    }

    private FuzzRequest Unicode(Random r)
    {
        switch (r.Next(6))
        {
            case 0:
            {
                // Unicode in every upload field; the body is otherwise valid, so only text that cannot be stored makes it malformed.
                var request = Base(r, Route.CreateUpload);
                var name = r.Chance(0.5) ? J.Str(UnicodeJunk(r) + ".mp4", r, escapeAll: r.Chance(0.5)) : J.Str("talk.mp4", r);
                var type = r.Chance(0.3) ? J.Str("video/mp4" + r.Pick("\u0000", "\uD800", "\u202E", "\u200B", "😀"), r) : "\"video/mp4\"";
                Json(request, $"{{\"fileName\":{name},\"contentType\":{type},\"sizeBytes\":{r.Next(1, 100_000)}}}");
                return request;
            }

            case 1 when r.Chance(0.25):
            {
                // Unicode key names: valid ones are refused by FuzzSafety, so what is sent has control characters or unpaired surrogates.
                var request = Base(r, Route.CreateKey);
                Json(request, $"{{\"name\":{J.Str(UnicodeJunk(r), r, escapeAll: r.Chance(0.5))}}}");
                return request;
            }

            case 1:
            {
                var request = Base(r, Route.CreateProject);
                var title = J.Str(UnicodeJunk(r), r, escapeAll: r.Chance(0.5));
                Json(request, r.Next(3) switch
                {
                    0 => $"{{\"title\":{title},\"uploadId\":\"{RandomGuid(r)}\"}}",
                    1 => $"{{\"title\":{title},\"url\":{J.Str(r.Pick("ftp://", "file:///", "http://user@", "javascript:") + UnicodeJunk(r), r)}}}",
                    _ => $"{{\"title\":{title},\"url\":{J.Str("http://" + UnicodeJunk(r) + "/a.mp4", r)},\"uploadId\":\"{targets.UploadId}\"}}",
                });
                return request;
            }

            case 2:
            {
                var request = Base(r, Route.Search);
                request.Target += "?q=" + Encode(UnicodeJunk(r), r) + (r.Chance(0.3) ? "&limit=" + Encode(UnicodeJunk(r), r) : "");
                return request;
            }

            case 3:
            {
                var route = r.Pick(IdRoutes);
                var request = Base(r, route, id: Encode(UnicodeJunk(r), r));
                return request;
            }

            case 4:
            {
                var route = r.Pick(Route.ListProjects, Route.Events, Route.EventStream);
                var request = Base(r, route);
                request.Target += "?" + r.Pick("status", "cursor", "after", "limit") + "=" + Encode(UnicodeJunk(r), r);
                return request;
            }

            default:
            {
                // Raw (unencoded) UTF-8 in the request target or a header.
                var request = Base(r, r.Pick(AllRoutes.Where(x => !Mutates(x)).ToArray()));
                if (r.Chance(0.5))
                {
                    request.Target += "?q=" + UnicodeJunk(r).Replace("\0", "", StringComparison.Ordinal);
                }
                else
                {
                    request.Header(r.Pick("X-Title", "Accept-Language", "User-Agent", "Last-Event-ID", "Referer"), UnicodeJunk(r).Replace("\0", "", StringComparison.Ordinal).Replace("\r", "").Replace("\n", ""));
                }

                request.MayCloseWithoutResponse = true;
                return request;
            }
        }
    }

    private FuzzRequest BadQuery(Random r)
    {
        var route = r.Pick(QueryRoutes);
        var request = Base(r, route);
        string[] names = route switch
        {
            Route.ListProjects => ["status", "limit", "cursor"],
            Route.Search => ["q", "limit"],
            Route.Events => ["after", "limit"],
            Route.EventStream => ["after", "access_token"],
            Route.Negotiate => ["negotiateVersion", "access_token"],
            Route.Hub => ["id", "access_token"],
            _ => ["format", "x", "download"],
        };
        var separator = request.Target.Contains('?') ? "&" : "?";
        request.Target += r.Next(12) switch
        {
            0 => r.Pick("?", "??", "?&&&", "?=", "?=&=", "?a", "?a=b=c", "?%", "?%zz=1", "?#frag", "#frag", "?;", "?q=a#b", "?" + new string('a', r.Pick(4000, 9000))),
            _ => separator + JunkQuery(r, names),
        };
        if (route == Route.EventStream && r.Chance(0.3))
        {
            request.Header("Last-Event-ID", r.Pick("-1", "abc", "9223372036854775808", "99999999999999999999", "1.5", "", " ", "0x10", "\u00e9"));
        }

        return request;
    }

    private FuzzRequest BadId(Random r)
    {
        var route = r.Pick(IdRoutes);
        var request = Base(r, route, id: InvalidId(r));
        if (MethodOf(route) == "POST" && r.Chance(0.3))
        {
            Json(request, BrokenJson(r));
        }

        return request;
    }

    private FuzzRequest PathTrick(Random r)
    {
        var id = r.Chance(0.6) ? targets.ProjectId.ToString() : WriteId(r);
        var g = RandomGuid(r).ToString();
        var path = r.Pick(
            $"/api/projects/{g}/../../uploads", "/api/projects/%2e%2e/uploads", "/api/projects/..%2fuploads", "/api/projects/..%252fuploads",
            $"/api/projects/{id}%2ftranscript", $"/api/projects/{id}/transcript%2esrt", $"/api/projects/{id}/transcript.srt%00",
            $"/api/projects/{id}%00/transcript", $"/api/projects/{id}/transcript.srt/../../../../etc/passwd", $"/api//projects//{id}",
            $"/api/projects/{id}/", $"/api/projects/{id}/./content", $"/API/PROJECTS/{id}", $"/api/projects/{id};jsessionid=x", $"/api/projects/{id}%3Bx",
            $"/api/projects/{id}/events/stream/../../events", "/api/uploads/../../health", "/%2e%2e/%2e%2e/etc/passwd", "/api/projects/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
            "/api/projects/..\\..\\windows\\win.ini", $"/api/projects/{id}\\transcript", "/api/search/..;/projects", "/openapi/../api/projects", "/openapi/v1.json/../../api/projects",
            "/openapi/v2.json", "/openapi/v1.yaml", "/openapi/%2e%2e%2fv1.json", "/openapi/..%2f..%2fappsettings.json", "/openapi/%00.json", "/hubs/projects/negotiate/../../..",
            "/hubs/../api/projects", "/health/../api/uploads", "/health%00", "/health/", "/HEALTH", $"//127.0.0.1/api/projects/{id}",
            "/api/projects/" + string.Concat(Enumerable.Repeat("../", r.Next(5, 300))) + "etc/passwd", "/" + new string('a', r.Pick(2000, 9000)),
            $"/api/projects/{id}/%2e%2e/%2e%2e/%2e%2e/search", $"/api/projects/{id}/transcript.srt%2f%2e%2e%2f%2e%2e%2fappsettings.json",
            "/api/projects/%252e%252e%252f%252e%252e%252fetc%252fpasswd", "/api/uploads/%2e/complete", "/api/uploads/../uploads/./", $"/api/uploads/{id}/complete/../../../projects",
            "/api/projects%00", "/api/projects%20", "/api/projects%09", "/api/%70rojects", "/api/projects/%", "/api/projects/%%30%30", $"/api/projects/{id}/events/%2e%2e/events/stream",
            "/./api/./projects/.", "/api/projects/.%2e/.%2e/health", "/api/projects?" + "../" + id, "/wwwroot/../appsettings.json", "/appsettings.json", "/.env", "/.git/config",
            "/api/projects/" + id + "/transcript." + new string('s', 3000), "/api/projects/*", "/api/projects/~", "/api/projects/" + id + "/events/stream%00");
        var method = r.Pick("GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");
        var request = new FuzzRequest { Route = "(path trick)", Method = method, Target = path, HeadersOnly = path.Contains("stream", StringComparison.Ordinal) };
        Auth(request, r, valid: r.Chance(0.85));
        if (method is "POST" or "PUT" or "PATCH")
        {
            Json(request, r.Chance(0.5) ? BrokenJson(r) : Encoding.UTF8.GetBytes(UploadObject(r, wrongTypes: false)));
        }

        return request;
    }

    private FuzzRequest WrongMethod(Random r)
    {
        var route = r.Pick(AllRoutes);
        var method = r.Pick("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FOO", "get", "Post", "PROPFIND", "QUERY", "MKCOL",
            "M-SEARCH", "CONNECT", new string('X', r.Pick(100, 1000)), "GET\u00e9", "PURGE", "LINK", "SEARCH");
        if (method == MethodOf(route))
        {
            method = method == "GET" ? "PUT" : "PATCH";
        }

        // POST and DELETE go to other ids (FuzzSafety refuses them on the real project anyway).
        var id = method is "POST" or "DELETE" ? WriteId(r) : (Mutates(route) ? WriteId(r) : ReadId(r));
        var request = Base(r, route, id, method);
        if (method is "POST" or "PUT" or "PATCH" or "QUERY" || r.Chance(0.2))
        {
            Json(request, r.Chance(0.5) ? BrokenJson(r) : Encoding.UTF8.GetBytes(r.Chance(0.5) ? UploadObject(r, wrongTypes: false) : ProjectObject(r, wrongTypes: false)));
        }

        if (method.Any(c => c > 127))
        {
            request.MayCloseWithoutResponse = true;
        }

        return request;
    }

    private FuzzRequest BadAuth(Random r)
    {
        var route = r.Pick(AllRoutes);
        var request = Base(r, route);
        request.Headers.RemoveAll(h => h.Key.Equals("X-Api-Key", StringComparison.OrdinalIgnoreCase));
        Auth(request, r, valid: false);
        if (route is Route.CreateUpload or Route.CreateProject or Route.CreateKey)
        {
            // Still never a valid creation (FuzzSafety), even without valid credentials.
            Json(request, Creation(r, route, wrongTypes: false));
        }

        if (request.AuthLabel.Contains("non-ASCII", StringComparison.Ordinal) || request.AuthLabel.Contains("NUL", StringComparison.Ordinal))
        {
            request.MayCloseWithoutResponse = true;
        }

        return request;
    }

    /// <summary>
    /// A malformed JWT (or a validly signed one with a subject that is missing, empty, of the wrong type or not storable) on a
    /// route that uses the caller's user id at once, with nothing else wrong, so that the token is what the API has to cope with.
    /// </summary>
    private FuzzRequest BadJwt(Random r)
    {
        var route = r.Pick(Route.ListProjects, Route.ListKeys, Route.GetProject, Route.Events, Route.EventStream, Route.Search, Route.Transcript,
            Route.Analysis, Route.Content, Route.Negotiate, Route.CreateProject, Route.CreateUpload, Route.CreateKey, Route.Cancel, Route.Retry,
            Route.DeleteProject, Route.RevokeKey, Route.CompleteUpload);
        var id = Mutates(route) ? r.Pick(targets.UploadId.ToString(), RandomGuid(r).ToString()) : targets.ProjectId.ToString();
        var request = Base(r, route, id);
        request.Headers.RemoveAll(h => h.Key.Equals("X-Api-Key", StringComparison.OrdinalIgnoreCase));
        var (label, token) = r.Pick(targets.BadJwts.ToArray());
        if (route is Route.EventStream or Route.Negotiate && r.Chance(0.5))
        {
            request.Target += (request.Target.Contains('?') ? "&" : "?") + "access_token=" + Uri.EscapeDataString(token);
            request.AuthLabel = label + " as access_token";
        }
        else
        {
            request.Header("Authorization", "Bearer " + token);
            request.AuthLabel = label;
        }

        if (route == Route.Search)
        {
            request.Target += "?q=battery";
        }

        if (route is Route.CreateProject or Route.CreateUpload or Route.CreateKey)
        {
            Json(request, Creation(r, route, wrongTypes: false));
        }

        return request;
    }

    private FuzzRequest BadContentType(Random r)
    {
        var route = r.Chance(0.85) ? r.Pick(CreateRoutes) : r.Pick(PostRoutes);
        var request = Base(r, route);
        var contentType = r.Pick("", "text/plain", "text/html", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=----x",
            "multipart/form-data", "application/octet-stream", "application/json; charset=utf-16", "application/json; charset=utf-32",
            "application/json; charset=bogus", "application/json; charset=\"\"", "application/json; charset=\"utf-8\"", "application/json; charset=", "application/json;;;",
            "application/json; charset=utf-8; charset=latin1", "application/json, text/plain", "application/jsonx", "application/*", "*/*", "json",
            "application/problem+json", "text/json", "application/vnd.api+json; charset=utf-8", "APPLICATION/JSON", "application/json; boundary=\"x",
            "application/json; q=0.5", "application/json; charset=iso-8859-1", "application/json; charset=ascii", "application/json; charset=utf-7",
            "application/json; charset=ebcdic-cp-us", "application/json; charset=unicodeFFFE", "application/json; charset=utf-16be", "image/png",
            "application/json; charset=" + new string('x', 500), "application/" + new string('j', 3000), "video/mp4", "application/json; charset=%00");
        string body;
        if (contentType.StartsWith("multipart", StringComparison.Ordinal))
        {
            body = "------x\r\nContent-Disposition: form-data; name=\"fileName\"\r\n\r\n../../a.mp4\r\n------x\r\nContent-Disposition: form-data; name=\"sizeBytes\"\r\n\r\n-1\r\n------x--\r\n";
        }
        else if (contentType.Contains("urlencoded", StringComparison.Ordinal))
        {
            body = r.Pick("fileName=a.mp4&contentType=video%2Fmp4&sizeBytes=-1", "url=ftp%3A%2F%2Fx&title=%00", "a=%zz&b");
        }
        else if (contentType.StartsWith("application/xml", StringComparison.Ordinal))
        {
            body = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><upload><fileName>&e;</fileName><sizeBytes>-1</sizeBytes></upload>";
        }
        else
        {
            body = Creation(r, route, wrongTypes: r.Chance(0.5));
        }

        var encoded = contentType.Contains("utf-16", StringComparison.OrdinalIgnoreCase) && r.Chance(0.5)
            ? Encoding.Unicode.GetBytes(body)
            : contentType.Contains("utf-32", StringComparison.OrdinalIgnoreCase) && r.Chance(0.5) ? Encoding.UTF32.GetBytes(body) : Encoding.UTF8.GetBytes(body);
        request.Body = encoded;
        if (r.Chance(0.9))
        {
            request.Header("Content-Type", contentType);
        }

        if (r.Chance(0.1))
        {
            request.Header("Content-Type", r.Pick("text/plain", "application/json"));
        }

        return request;
    }

    private FuzzRequest BadFraming(Random r)
    {
        var route = r.Pick(AllRoutes);
        var request = Base(r, route);
        request.MayCloseWithoutResponse = true;
        var json = Encoding.UTF8.GetBytes(route is Route.CreateProject or Route.CreateKey ? Creation(r, route, wrongTypes: false) : UploadObject(r, wrongTypes: false));
        switch (r.Next(24))
        {
            case 0:
                request.Body = json;
                request.Header("Content-Type", "application/json");
                request.Framing = BodyFraming.Chunked;
                request.MayCloseWithoutResponse = false;
                break;
            case 1:
                request.Header("Transfer-Encoding", "chunked");
                request.Framing = BodyFraming.Raw;
                request.Body = Encoding.ASCII.GetBytes(r.Pick("zz\r\nabc\r\n0\r\n\r\n", "5;ext=\"\x01\"\r\nhello\r\n0\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n", "ffffffffffffffffff\r\n\r\n0\r\n\r\n", "3\r\nabcdef\r\n0\r\n\r\n", "0\r\nX-Trailer: \x01\r\n\r\n", "\r\n\r\n"));
                break;
            case 2:
                request.Header("Transfer-Encoding", "chunked");
                request.Body = json;
                break;
            case 3:
                request.Framing = BodyFraming.Raw;
                request.Header("Content-Length", "5");
                request.Header("Content-Length", "7");
                request.Body = "helloxx"u8.ToArray();
                break;
            case 4:
                request.Framing = BodyFraming.Raw;
                request.Header("Content-Length", r.Pick("-1", "abc", "1e3", "99999999999999999999", " ", "0x10", "+5", "5, 5", "5,6"));
                request.Body = "hello"u8.ToArray();
                break;
            case 5:
                request.Body = json;
                request.Header("Content-Type", "application/json");
                request.DeclaredLength = r.Next(0, json.Length);
                break;
            case 6:
                request.OmitHost = true;
                break;
            case 7:
                request.Header("Host", "127.0.0.1");
                break;
            case 8:
                request.OmitHost = true;
                request.Header("Host", r.Pick("evil.example", "", "127.0.0.1:99999", "[::1", "a b", "127.0.0.1@evil", new string('h', 5000), "h\u00e9st", "%00", "localhost:-1"));
                break;
            case 9:
                request.Header("X-Test", "a\0b");
                break;
            case 10:
                request.Header(r.Pick("X Y", "X\tY", "(bad)", "X:Y", "\u00e9", ""), "1");
                break;
            case 11:
                request.Header("X-Long", new string('v', r.Pick(9000, 40_000)));
                break;
            case 12:
                for (var i = 0; i < r.Next(101, 300); i++)
                {
                    request.Header($"X-H{i}", "v");
                }

                break;
            case 13:
                request.Header("X-Folded", "a\r\n folded");
                break;
            case 14:
                request.RequestLine = $"{MethodOf(route)} http://127.0.0.1{request.Target} HTTP/1.1";
                request.MayCloseWithoutResponse = false;
                break;
            case 15:
                request.RequestLine = r.Pick("OPTIONS * HTTP/1.1", "GET * HTTP/1.1", "CONNECT 127.0.0.1:80 HTTP/1.1", "GET api/projects HTTP/1.1", "GET  /health HTTP/1.1",
                    "GET /health?q=a b HTTP/1.1", "GET /health\tHTTP/1.1", "GET /api/projects/\u00e9 HTTP/1.1", "GET /health\0 HTTP/1.1", "GET /health HTTP/1.0", "GET /health",
                    "GET /api/projects HTTP/1.1 extra", "/health HTTP/1.1", "GET /health#frag HTTP/1.1", "GET http://evil.example/api/projects HTTP/1.1");
                request.Body = null;
                break;
            case 16:
                request.Header("Upgrade", r.Pick("websocket", "h2c", "foo"));
                request.Header("Connection", "Upgrade");
                break;
            case 17:
                request.Body = json;
                request.Header("Content-Type", "application/json");
                request.Header("Expect", r.Pick("100-continue", "junk", "200-ok"));
                request.MayCloseWithoutResponse = false;
                break;
            case 18:
                request.Header(r.Pick("Accept", "Accept-Encoding", "Accept-Language", "Range", "If-Modified-Since", "If-None-Match", "Origin", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", "Content-Encoding"),
                    r.Pick("application/json;q=abc", "gzip;q=x, *;q=-1", "bytes=abc", "bytes=-1-2", "junk", "null", "999.999.999.999", "javascript:1", "DELETE", "/api/uploads", "gzip", "br", "\u0001"));
                request.MayCloseWithoutResponse = false;
                break;
            case 19:
                request.Body = json;
                request.Header("Content-Type", "application/json");
                request.Header("Content-Encoding", r.Pick("gzip", "deflate", "br", "identity", "junk"));
                request.MayCloseWithoutResponse = false;
                break;
            case 20:
                request.Header("Cookie", new string('c', 5000) + "=" + UnicodeJunk(r).Replace("\r", "").Replace("\n", "").Replace("\0", ""));
                break;
            case 21:
                request.Header("Transfer-Encoding", r.Pick("gzip", "identity", "chunked, gzip", "gzip, chunked", "xchunked", "chunked, chunked"));
                request.Framing = BodyFraming.Raw;
                request.Body = "0\r\n\r\n"u8.ToArray();
                break;
            case 22:
                request.Header("Content-Length", "0");
                request.Header("Transfer-Encoding", "chunked");
                request.Framing = BodyFraming.Raw;
                request.Body = "0\r\n\r\n"u8.ToArray();
                break;
            default:
                request.Header("Last-Event-ID", r.Pick("-1", "abc", "9223372036854775808", "99999999999999999999", "1.5", "", "0x10"));
                request.Header("Accept", "text/event-stream");
                request.MayCloseWithoutResponse = false;
                break;
        }

        return request;
    }

    // ---------------------------------------------------------------- bodies

    private static void Json(FuzzRequest request, string json)
    {
        request.Body = Encoding.UTF8.GetBytes(json);
        request.Header("Content-Type", "application/json");
    }

    private static void Json(FuzzRequest request, byte[] json)
    {
        request.Body = json;
        request.Header("Content-Type", "application/json");
    }

    /// <summary>Not JSON, or JSON the API cannot bind: truncated, invalid syntax, invalid UTF-8, other encodings, too deep.</summary>
    private byte[] BrokenJson(Random r)
    {
        switch (r.Next(8))
        {
            case 0:
            {
                var whole = r.Chance(0.5) ? UploadObject(r, wrongTypes: false) : ProjectObject(r, wrongTypes: false);
                return Encoding.UTF8.GetBytes(whole[..r.Next(0, whole.Length)]);
            }

            case 1:
                return Encoding.UTF8.GetBytes(r.Pick(
                    "", " ", "\n", "{", "}", "[", "]", "{{}}", "{\"fileName\":}", "{\"fileName\" \"a\"}", "{'fileName':'a.mp4'}", "{fileName:\"a.mp4\"}",
                    "{\"a\":1,}", "[1,2,]", "{\"a\":1}//comment", "/* c */{}", "{\"a\":NaN}", "{\"sizeBytes\":Infinity}", "{\"sizeBytes\":-Infinity}",
                    "{\"a\":undefined}", "{\"sizeBytes\":01}", "{\"sizeBytes\":.5}", "{\"sizeBytes\":1.}", "{\"sizeBytes\":+1}", "{\"sizeBytes\":0x10}",
                    "{\"fileName\":\"\\x41\"}", "{\"fileName\":\"\\u12\"}", "{\"fileName\":\"\\uZZZZ\"}", "{\"fileName\":\"unterminated}", "{\"title\":\"line\nbreak\"}",
                    "{\"title\":\"tab\there\"}", "\"just a string\"", "42", "true", "false", "null", "[]", "{}", "{}{}", "{} []", "{\"a\":1}}", "\u0000",
                    "\uFEFF{}", "{\"url\":\"ftp://x\"", "[{\"fileName\":\"a.mp4\",\"contentType\":\"video/mp4\",\"sizeBytes\":1}]", "{\"\":\"\"}", "{\"title\":\"\\", ",",
                    "{\"uploadId\":\"" + targets.UploadId + "\"", "{\"uploadId\":" + targets.UploadId + "}", "{\"url\":'http://127.0.0.1/a.mp4'}", "{\"fileName\"::\"a\"}",
                    "{\"a\" : 1 \"b\" : 2}", "{\"sizeBytes\":1,,\"fileName\":\"a\"}", "{\"sizeBytes\":1 2}", "nul", "tru", "{\"title\":\"\\ud800\\\"}", "\u001b[31m"));
            case 2:
            {
                // Invalid UTF-8 inside an otherwise plausible body.
                var bad = r.Pick<byte[]>([0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFF], [0xFE, 0xFF], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0x80]);
                var prefix = "{\"fileName\":\"a"u8.ToArray();
                var suffix = ".mp4\",\"contentType\":\"video/mp4\",\"sizeBytes\":1}"u8.ToArray();
                return [.. prefix, .. bad, .. suffix];
            }

            case 3:
            {
                // Too deep (the API allows 32 levels).
                var depth = r.Pick(33, 64, 1000, 100_000);
                var open = r.Chance(0.5) ? "[" : "{\"a\":";
                var close = open == "[" ? "]" : "}";
                var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + (r.Chance(0.8) ? string.Concat(Enumerable.Repeat(close, depth)) : "");
                return Encoding.UTF8.GetBytes(r.Chance(0.5) ? nested : $"{{\"title\":{nested},\"url\":\"ftp://x\"}}");
            }

            case 4:
            {
                // Random bytes.
                var bytes = new byte[r.Next(1, 3000)];
                r.NextBytes(bytes);
                return bytes;
            }

            case 5:
            {
                // Another encoding than UTF-8, without saying so.
                var text = r.Chance(0.5) ? UploadObject(r, wrongTypes: true) : ProjectObject(r, wrongTypes: true);
                return r.Pick(Encoding.Unicode, Encoding.BigEndianUnicode, Encoding.UTF32).GetBytes(text);
            }

            case 6:
            {
                // Duplicated members, where the last one wins in System.Text.Json.
                return Encoding.UTF8.GetBytes(r.Pick(
                    "{\"sizeBytes\":1,\"sizeBytes\":\"x\",\"fileName\":\"a.mp4\",\"contentType\":\"video/mp4\"}",
                    "{\"fileName\":\"a.mp4\",\"fileName\":null,\"contentType\":\"video/mp4\",\"sizeBytes\":1}",
                    "{\"uploadId\":\"" + RandomGuid(r) + "\",\"uploadId\":[],\"url\":\"ftp://x\"}",
                    "{\"url\":\"ftp://a\",\"URL\":\"gopher://b\",\"Url\":null}",
                    "{\"title\":\"a\",\"title\":\"\\u0000\",\"uploadId\":\"" + RandomGuid(r) + "\"}"));
            }

            default:
            {
                // Valid-looking JSON followed by garbage, or wrapped in something else.
                var text = r.Chance(0.5) ? UploadObject(r, wrongTypes: false) : ProjectObject(r, wrongTypes: false);
                return Encoding.UTF8.GetBytes(r.Pick(text + "x", text + "\0", text + "}", "[" + text + "]", "{\"data\":" + text + "}", "\"" + text.Replace("\"", "\\\"") + "\"", text + text, "\uFEFF\uFEFF" + text));
            }
        }
    }

    private string Creation(Random r, Route route, bool wrongTypes) => route switch
    {
        Route.CreateUpload => UploadObject(r, wrongTypes),
        Route.CreateKey => KeyObject(r, wrongTypes),
        _ => ProjectObject(r, wrongTypes),
    };

    /// <summary>A length for a huge string: mostly just under the API's 1 MB body limit (so the JSON is read), sometimes over it.</summary>
    private static int HugeLength(Random r, int atLeast) => r.Next(10) switch
    {
        < 6 => r.Next(atLeast, 50_000),
        < 9 => r.Next(100_000, 1_000_000),
        _ => r.Next(1_100_000, 2_500_000),
    };

    /// <summary>An API key creation that is refused: the name missing, empty, too long, with control characters, or of the wrong type.</summary>
    private static string KeyObject(Random r, bool wrongTypes)
    {
        var name = wrongTypes || r.Chance(0.2)
            ? WrongTyped(r, number: false)
            : r.Pick<string?>(null, "null", "\"\"", "\"   \"", "\"\\t\\n\"", J.Str(new string('k', r.Next(101, 300)), r), "\"a\\u0000b\"", "\"line\\nbreak\"",
                "\"\\u001b[31mred\"", "\"\\u0085\"", "\"\\u007f\"", "\"\\ud800\"", "\"key\\r\\nX-Injected: 1\"");
        var fields = new List<(string Key, string? Value)> { ("name", name) };
        if (r.Chance(0.3))
        {
            fields.Add((r.Pick("userId", "key", "prefix", "revokedAt", "id"), r.Pick("\"intruder\"", "\"ma_x\"", "null", "1")));
        }

        return JsonObject(r, fields);
    }

    /// <summary>An upload creation with at least one field missing, out of range or of the wrong type.</summary>
    private string UploadObject(Random r, bool wrongTypes)
    {
        var fields = new List<(string Key, string? Value)>
        {
            ("fileName", J.Str(r.Pick("talk.mp4", "clip.mov", "a.mp3", "видео.mp4", "😀.mp4", "../../../etc/passwd", "a/b\\c.mp4", "x\u202Egnp.mp4", "CON.mp4", ".hidden", "a\r\nb.mp4"), r)),
            ("contentType", J.Str(r.Pick("video/mp4", "audio/mpeg", "application/octet-stream", " VIDEO/MP4 "), r)),
            ("sizeBytes", r.Next(1, int.MaxValue).ToString(CultureInfo.InvariantCulture)),
        };

        // Break at least one field.
        var broken = new HashSet<int> { r.Next(fields.Count) };
        while (r.Chance(0.3))
        {
            broken.Add(r.Next(fields.Count));
        }

        foreach (var i in broken)
        {
            var key = fields[i].Key;
            fields[i] = (key, wrongTypes || r.Chance(0.3) ? WrongTyped(r, key == "sizeBytes") : key switch
            {
                "fileName" => r.Pick<string?>(null, "null", "\"\"", "\"   \"", "\"\\t\\n\"", J.Str(new string('f', r.Next(256, 400)) + ".mp4", r)),
                "contentType" => r.Pick<string?>(null, "null", "\"\"", "\"text/html\"", "\"image/png\"", "\"video\"", "\"videomp4\"", "\"application/json\"", J.Str("video/" + new string('m', 100), r), "\"\\u0000video/mp4\"", "\"vid\\u0000eo/mp4\""),
                _ => r.Pick<string?>(null, "null", "0", "-1", "-9223372036854775808", "-0", "0.5", "1.5", "1e3", "\"-5\"", "\"0\"", "\"abc\"", "\"\"", "5368709121", "9223372036854775807"),
            });
        }

        return JsonObject(r, fields);
    }

    /// <summary>A project creation that is refused: bad title, both or neither source, an unknown upload, or a link that does not parse.</summary>
    private string ProjectObject(Random r, bool wrongTypes)
    {
        var fields = new List<(string Key, string? Value)>();
        if (r.Chance(0.6))
        {
            fields.Add(("title", J.Str(r.Pick("My talk", "Видео", "😀 talk", "\u202Eklat", "a\u200Bb"), r)));
        }

        switch (r.Next(wrongTypes ? 7 : 6))
        {
            case 0:
                // Title too long or with control characters.
                fields.RemoveAll(f => f.Key == "title");
                fields.Add(("title", J.Str(r.Pick(new string('t', r.Next(201, 1000)), "a\u0000b", "line\nbreak", "\u001b[31mred", "tab\t", "\u0085nel", "\u007f"), r)));
                fields.Add(r.Chance(0.5) ? ("uploadId", J.Str(targets.UploadId.ToString(), r)) : ("url", J.Str("http://127.0.0.1/a.mp4", r)));
                break;
            case 1:
                // Both sources.
                fields.Add(("uploadId", J.Str(r.Chance(0.5) ? targets.UploadId.ToString() : RandomGuid(r).ToString(), r)));
                fields.Add(("url", J.Str(r.Pick("http://127.0.0.1/a.mp4", "https://example.com/v.mp4", JunkUrl(r)), r)));
                break;
            case 2:
                // Neither source.
                if (r.Chance(0.5))
                {
                    fields.Add(("url", r.Pick("null", "\"\"", "\"   \"", "\"\\t\\n\"")));
                }

                if (r.Chance(0.3))
                {
                    fields.Add(("uploadId", "null"));
                }

                break;
            case 3:
                // An upload that does not exist.
                fields.Add(("uploadId", J.Str(r.Chance(0.8) ? RandomGuid(r).ToString() : Guid.Empty.ToString(), r)));
                break;
            case 4:
            case 5:
                // A link that is refused.
                fields.Add(("url", J.Str(JunkUrl(r), r)));
                break;
            default:
                fields.Add((r.Pick("title", "uploadId", "url"), WrongTyped(r, number: false)));
                if (r.Chance(0.5))
                {
                    fields.Add((r.Pick("uploadId", "url"), WrongTyped(r, number: false)));
                }

                break;
        }

        return JsonObject(r, fields);
    }

    private static string JunkUrl(Random r) => r.Pick(
        "", "   ", "not a url", "ftp://127.0.0.1/a.mp4", "file:///etc/passwd", "javascript:alert(1)", "data:video/mp4;base64,AAAA", "gopher://127.0.0.1:70/_x",
        "//127.0.0.1/a.mp4", "/etc/passwd", "../a.mp4", "http://", "https://", "http:///a.mp4", "http://[::1", "http://user:pass@127.0.0.1/a.mp4",
        "https://a@b@c/", "http://127.0.0.1:99999/a.mp4", "http://" + new string('a', r.Next(2049, 5000)), "https://x.test/" + new string('a', r.Next(2040, 3000)),
        "ht\u0000tp://x", "http://\uD800/", "mailto:a@b.c", "ws://127.0.0.1/", "\u202Ehttp://x", "ｈｔｔｐ://example.com", "http://169.254.169.254@127.0.0.1/",
        "file://127.0.0.1/etc/passwd", "HTTP//127.0.0.1", "http:\\\\127.0.0.1\\a.mp4", "http://[fe80::1%25eth0]/", "http://0x7f.1/", "\\\\server\\share\\a.mp4",
        "http://a b.com/", "http://%00/", "http://-/", "C:\\video.mp4", "about:blank", "view-source:http://x", "jar:http://x!/", "urn:isbn:0451450523");

    private static string? WrongTyped(Random r, bool number) => number
        ? r.Pick<string?>("\"12x\"", "true", "false", "[]", "[1]", "{}", "{\"v\":1}", "\"\"", "1.5", "1e3", "\"NaN\"", "\"Infinity\"", "NaN", "9223372036854775808",
            "-9223372036854775809", "1e309", "\"0x10\"", "\" 5\"", "\"5 \"", "\"5.0\"", "\"1e2\"")
        : r.Pick<string?>("123", "-1", "1.5", "true", "false", "[]", "[\"a\"]", "{}", "{\"a\":\"b\"}", "\"not-a-guid\"", "\"\"", "0", "1e309",
            "\"00000000-0000-0000-0000-00000000000g\"", "\"" + RandomGuid(r).ToString("N") + "\"", "\"" + RandomGuid(r).ToString("B") + "\"",
            "[\"http://127.0.0.1/a.mp4\"]", "{\"url\":\"http://127.0.0.1/a.mp4\"}");

    /// <summary>Writes members in a random style: key casing, unknown members, spacing, duplicated keys.</summary>
    private static string JsonObject(Random r, List<(string Key, string? Value)> fields)
    {
        var members = new List<string>();
        foreach (var (key, value) in fields)
        {
            if (value is null)
            {
                continue;
            }

            var name = r.Next(20) switch
            {
                0 => key.ToUpperInvariant(),
                1 => key.ToLowerInvariant(),
                2 => char.ToUpperInvariant(key[0]) + key[1..],
                _ => key,
            };
            members.Add($"{J.Str(name, r)}:{value}");
        }

        if (r.Chance(0.25))
        {
            members.Insert(r.Next(members.Count + 1), $"{J.Str(r.Pick("extra", "__proto__", "constructor", "$type", "userId", "id", "status", "\u0000", "", "file_name"), r)}:{r.Pick("1", "null", "\"admin\"", "{\"isAdmin\":true}", "[]", "\"completed\"")}");
        }

        var space = r.Chance(0.1) ? r.Pick(" ", "\n", "\t", "\r\n  ") : "";
        return "{" + space + string.Join("," + space, members) + space + "}";
    }

    // ---------------------------------------------------------------- strings and queries

    private static readonly string[] UnicodeSamples =
    [
        "\u202Egnp.exe", "a\u200Bb\u200Cc\u200Dd\uFEFF", "😀🎬📹", "👨‍👩‍👧‍👦", "e\u0301\u0301\u0301\u0301", "עברית العربية", "\uD800", "\uDC00", "\uDBFF\uDBFF",
        "x\uD83D", "\uDE00x", "\uFFFF\uFFFE", "\u0000", "a\u0000b", "\u0001\u001F\u007F", "line1\r\nX-Injected: yes", "\u2028\u2029", "<script>alert(1)</script>",
        "' OR '1'='1'; DROP TABLE projects; --", "${jndi:ldap://127.0.0.1/a}", "{{7*7}}", "%s%s%s%n", "中文字幕", "Ṫ̈ͅȅ̖s̈́t̾", "\u00A0\u2003\u3000", "ﷺ",
        "\U0001F9D1\u200D\U0001F680", "\u0085", "Ⅻ", "İıǅ", "\uFDD0", "\U0010FFFF", "𝕳𝖊𝖑𝖑𝖔", "\u034F\u034F", "\u115F\u1160", "\\u0000", "%00", "..%2f..%2f",
    ];

    private static string UnicodeJunk(Random r)
    {
        var parts = Enumerable.Range(0, r.Next(1, 4)).Select(_ => r.Pick(UnicodeSamples));
        var text = string.Concat(parts);
        return r.Chance(0.05) ? string.Concat(Enumerable.Repeat(text, r.Next(100, 2000))) : text;
    }

    private static (string Name, string Value) JunkHeader(Random r) => r.Pick(
        ("Accept", "application/json;q=abc"), ("Accept", "*/*;q=2"), ("Accept-Charset", "utf-7"), ("X-Request-Id", new string('r', 2000)),
        ("Last-Event-ID", "-1"), ("If-None-Match", "\"x\""), ("Origin", "null"), ("X-Forwarded-For", "127.0.0.1, ::1, junk"), ("Range", "bytes=0-"),
        ("Content-Language", "xx"), ("TE", "trailers"), ("Pragma", "no-cache"), ("X-HTTP-Method-Override", "DELETE"), ("Accept-Encoding", "gzip;q=x"));

    private static string JunkQuery(Random r, string[] names)
    {
        var pairs = new List<string>();
        for (var i = 0; i < r.Next(1, 5); i++)
        {
            var name = r.Chance(0.8) ? r.Pick(names) : r.Pick("x", "", "%00", "q%00", "limit[]", "cursor[0]", "status.x", "__proto__", "a%zz", new string('n', 300));
            pairs.Add(r.Chance(0.05) ? name : $"{name}={JunkValue(r, name)}");
        }

        return string.Join(r.Chance(0.05) ? ";" : "&", pairs);
    }

    private static string JunkValue(Random r, string name) => name switch
    {
        "status" => r.Pick("uploading", "queued", "processing", "completed", "failed", "cancelled", "FAILED", "deleted", "none", "", "failed%00", "failed,completed",
            "%27", "failed%20", "%20failed", "0", "-1", Encode(UnicodeJunk(r), r), new string('s', 1000), "Failed", "fail%65d"),
        "limit" => r.Pick("", "0", "-1", "1", "100", "101", "2147483647", "2147483648", "-2147483649", "99999999999999999999", "1.5", "1e2", "abc", "0x10",
            "%00", "+1", "%2B1", "%201", "1%00", "%D9%A1", "1,2", "null", "true", "1&limit=2"),
        "after" => r.Pick("", "-1", "0", "1", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "abc", "1.5", "%00", "1e3", "-0", "%D9%A1", "null"),
        "cursor" => Cursor(r),
        "q" => r.Pick("%00", "a%00b", new string('a', r.Pick(500, 501, 5000)), string.Concat(Enumerable.Repeat("%F0%9F%98%80", r.Pick(250, 251, 400))), "%E2%80%8B",
            "%C2%A0", "%26", "%7C", "!", "%3C-%3E", ":*", "%27", "%22", "(", ")", "or", "-", "-a", "%5C", "%25", "_", "*", "a'b", "%27%3B%20DROP%20TABLE%20projects%3B--",
            "%E2%80%AE", "%ED%A0%80", "%01%02%1F", "%0D%0A", "battery", "a%20%20%20b", "!!!!!", "%26%26%7C%7C", "a%3A*%20%26%20!b", "%E4%B8%AD%E6%96%87", "+", "%2B", ""),
        "negotiateVersion" => r.Pick("1", "0", "-1", "abc", "99999999999", "", "1.5", "%00"),
        "access_token" => r.Pick("ma_junk", "", "%00", "junk", "ma_" + new string('k', 300)),
        "id" => r.Pick("", "junk", "%00", Guid.Empty.ToString(), new string('i', 500)),
        _ => r.Pick("", "1", "-1", "%00", "%zz", "../../etc/passwd", "..%2f..%2f", "%252e%252e", Encode(UnicodeJunk(r), r), new string('v', 2000), "[]", "{}", "true"),
    };

    private static string Cursor(Random r)
    {
        string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
        var guid = r.Pick(RandomGuid(r).ToString(), "not-a-guid", "", Guid.Empty.ToString());
        var ticks = r.Pick("0", "-1", "1", "621355968000000000", (DateTime.MaxValue.Ticks - 1).ToString(CultureInfo.InvariantCulture), DateTime.MaxValue.Ticks.ToString(CultureInfo.InvariantCulture),
            long.MaxValue.ToString(CultureInfo.InvariantCulture), "abc", "1e5", " 1", "0x10", "99999999999999999999999", "638000000000000000");
        var value = r.Next(12) switch
        {
            0 => r.Pick("", "!!!", "%00", "abc", "====", "YQ", "Y", "%zz", "++++", "////", "\u00e9", "null"),
            1 => Base64("x"),
            2 => Base64($"{ticks}:{guid}:extra"),
            3 => Convert.ToBase64String([0xFF, 0xFE, 0x00, 0x3A, 0xC3]),
            4 => Base64($"{ticks}:{guid}").Replace('+', '-').Replace('/', '_').TrimEnd('='),
            5 => Base64($"{ticks}:{guid}").Insert(2, "\n "),
            6 => Base64(new string('z', r.Next(100, 3000))),
            7 => Base64($"{ticks}:{guid}") + "=",
            _ => Base64($"{ticks}:{guid}"),
        };
        return r.Chance(0.6) || value.Any(c => c <= ' ' || c > '~') ? Uri.EscapeDataString(value) : value;
    }

    /// <summary>Percent-encodes text as UTF-8 (unpaired surrogates as the bytes of the surrogate, which is invalid UTF-8), or leaves parts raw.</summary>
    private static string Encode(string text, Random r)
    {
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])))
            {
                // CESU-style bytes of a lone surrogate: invalid UTF-8.
                result.Append(CultureInfo.InvariantCulture, $"%{0xE0 | (c >> 12):X2}%{0x80 | ((c >> 6) & 0x3F):X2}%{0x80 | (c & 0x3F):X2}");
                continue;
            }

            var s = char.IsHighSurrogate(c) ? text.Substring(i++, 2) : c.ToString();
            if (s.Length == 1 && char.IsAsciiLetterOrDigit(c))
            {
                result.Append(c);
                continue;
            }

            foreach (var b in Encoding.UTF8.GetBytes(s))
            {
                result.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }

        return result.ToString();
    }

    private static string RandomAscii(Random r, int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return new string(Enumerable.Range(0, length).Select(_ => alphabet[r.Next(alphabet.Length)]).ToArray());
    }
}

/// <summary>JSON text helpers that can write what System.Text.Json will not (unpaired surrogates as escapes).</summary>
internal static class J
{
    /// <summary>A JSON string literal; control characters and surrogates escaped as \uXXXX, other non-ASCII raw or escaped at random.</summary>
    public static string Str(string value, Random r, bool escapeAll = false)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                default:
                    if (c < 0x20 || char.IsSurrogate(c) || (c > 127 && (escapeAll || r.Chance(0.3))))
                    {
                        text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }
        }

        return text.Append('"').ToString();
    }
}

internal static class RandomExtensions
{
    public static T Pick<T>(this Random random, params T[] items) => items[random.Next(items.Length)];

    public static bool Chance(this Random random, double probability) => random.NextDouble() < probability;
}
