using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace MediaActors.Providers.Tests.Fakes;

/// <summary>A segment the fake transcription endpoint returns, in seconds from the start of the uploaded file.</summary>
public sealed record FakeSegment(double Start, double End, string Text, string? Speaker = null);

/// <summary>One request the fake server received, with the API key never recorded.</summary>
public sealed record FakeOpenAiRequest
{
    /// <summary>HTTP method ("POST").</summary>
    public required string Method { get; init; }

    /// <summary>Request path, e.g. "/v1/audio/transcriptions".</summary>
    public required string Path { get; init; }

    /// <summary>Request headers; Authorization is kept as "Bearer [redacted]" (its value is never stored).</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>True when the request carried "Authorization: Bearer &lt;the server's key&gt;".</summary>
    public required bool Authorized { get; init; }

    /// <summary>Multipart or URL-encoded form fields by name (e.g. "model", "response_format", "timestamp_granularities[]").</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Form { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>File name of the uploaded "file" part, if any.</summary>
    public string? FileName { get; init; }

    /// <summary>Size in bytes of the uploaded "file" part, if any.</summary>
    public long? FileSize { get; init; }

    /// <summary>Duration of the uploaded file read with ffprobe; null when it could not be decoded.</summary>
    public double? FileDurationSeconds { get; init; }

    /// <summary>The raw JSON body (chat completions, embeddings).</summary>
    public string? Body { get; init; }

    /// <summary>The JSON body parsed, or null.</summary>
    public JsonNode? Json { get; init; }

    /// <summary>For chat completions: response_format.json_schema.name, if any.</summary>
    public string? SchemaName { get; init; }

    /// <summary>The status the server answered with (0 while it is still answering or when the client went away first).</summary>
    public int ResponseStatus { get; set; }

    /// <summary>When the request arrived.</summary>
    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The first value of a form field, or null.</summary>
    public string? FormValue(string name) => Form.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    /// <summary>All values of a form field (empty when absent).</summary>
    public IReadOnlyList<string> FormValues(string name) => Form.TryGetValue(name, out var values) ? values : [];
}

/// <summary>
/// A real HTTP server (Kestrel on 127.0.0.1, random port) that speaks the OpenAI protocol for POST
/// /v1/audio/transcriptions, /v1/chat/completions and /v1/embeddings, checks the bearer key, records every request, and
/// can be told to fail or delay requests. Point "OpenAI:Endpoint" at <see cref="Endpoint"/> and "OpenAI:ApiKey" at
/// <see cref="ApiKey"/> (or use <see cref="ConfigurationValues"/>).
/// Chat answers follow response_format.json_schema.name: "analysis" and "content" get valid JSON for the schemas of
/// OpenAiContentGenerator; anything else gets a short text. A 401 deliberately echoes the presented key, so tests can
/// prove callers redact it.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    /// <summary>The key the server accepts unless another is given to <see cref="StartAsync"/>.</summary>
    public const string DefaultApiKey = "fake-openai-key-3f9a1c";

    private readonly WebApplication _app;
    private readonly object _lock = new();
    private readonly List<FakeOpenAiRequest> _requests = [];
    private readonly List<Rule> _failures = [];
    private readonly List<Rule> _delays = [];
    private readonly Queue<(string? Content, string? Refusal, string FinishReason)> _chatAnswers = new();

    private FakeOpenAiServer(WebApplication app, string apiKey)
    {
        _app = app;
        ApiKey = apiKey;
    }

    /// <summary>The API key the server accepts.</summary>
    public string ApiKey { get; }

    /// <summary>The server's root, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The value for "OpenAI:Endpoint" (BaseAddress + "v1").</summary>
    public Uri Endpoint => new(BaseAddress, "v1");

    /// <summary>"OpenAI:Endpoint" and "OpenAI:ApiKey" for an in-memory configuration.</summary>
    public IReadOnlyDictionary<string, string?> ConfigurationValues => new Dictionary<string, string?>
    {
        ["OpenAI:Endpoint"] = Endpoint.ToString(),
        ["OpenAI:ApiKey"] = ApiKey,
    };

    /// <summary>Length of each generated transcription segment in seconds (default 5).</summary>
    public double SegmentSeconds { get; set; } = 5;

    /// <summary>Sentences used, in turn, as the text of generated segments.</summary>
    public IReadOnlyList<string> Sentences { get; set; } =
    [
        "Welcome to this video about building reliable media pipelines.",
        "We extract the audio track and transcribe it with a speech model.",
        "Then we write a summary, a blog post and social media posts.",
        "Every step is retried when the network fails.",
        "Thanks for watching and see you next time.",
    ];

    /// <summary>When true, verbose_json segments carry a "speaker" field (SPEAKER_00, SPEAKER_01 alternating).</summary>
    public bool IncludeSpeakers { get; set; }

    /// <summary>Replaces the generated segments: gets the uploaded file's duration, returns the segments to answer with.</summary>
    public Func<double, IReadOnlyList<FakeSegment>>? SegmentScript { get; set; }

    /// <summary>Answers transcription requests with this raw JSON instead of the generated answer (to imitate other compatible servers); null falls through.</summary>
    public Func<FakeOpenAiRequest, string?>? TranscriptionResponder { get; set; }

    /// <summary>The "language" field of verbose_json answers (Whisper names languages in English, e.g. "english").</summary>
    public string Language { get; set; } = "english";

    /// <summary>Uploads larger than this get 413, as OpenAI does over 25 MB.</summary>
    public long MaxUploadBytes { get; set; } = 26_214_400;

    /// <summary>The ffprobe program used to read uploaded files' durations.</summary>
    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>Answers chat requests before the built-in answers; return null to fall through to them.</summary>
    public Func<FakeOpenAiRequest, string?>? ChatResponder { get; set; }

    /// <summary>When true, embedding data items come back in reverse order (each with its correct index).</summary>
    public bool ReverseEmbeddingOrder { get; set; }

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<FakeOpenAiRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return _requests.ToList();
            }
        }
    }

    /// <summary>Starts the server on a free port of 127.0.0.1.</summary>
    public static async Task<FakeOpenAiServer> StartAsync(string apiKey = DefaultApiKey, CancellationToken cancellationToken = default)
    {
        // The empty builder reads no appsettings or ASPNETCORE_ variables, so the host test's settings cannot leak in.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options => options.Limits.MaxRequestBodySize = null);
        builder.Services.Configure<FormOptions>(options =>
        {
            options.MultipartBodyLengthLimit = long.MaxValue;
            options.ValueLengthLimit = int.MaxValue;
        });
        var app = builder.Build();
        var server = new FakeOpenAiServer(app, apiKey);
        app.Urls.Add("http://127.0.0.1:0");
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        server.BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/");
        return server;
    }

    /// <summary>The recorded requests whose path is <paramref name="path"/> (e.g. "/v1/embeddings").</summary>
    public IReadOnlyList<FakeOpenAiRequest> RequestsTo(string path)
    {
        lock (_lock)
        {
            return _requests.Where(r => r.Path == path).ToList();
        }
    }

    /// <summary>Forgets the recorded requests.</summary>
    public void ClearRequests()
    {
        lock (_lock)
        {
            _requests.Clear();
        }
    }

    /// <summary>The next <paramref name="count"/> requests (whose path contains <paramref name="pathContains"/>, if given) fail with <paramref name="statusCode"/> and an OpenAI error body.</summary>
    public void FailNext(int count, int statusCode, string? pathContains = null, string? errorCode = null)
    {
        lock (_lock)
        {
            _failures.Add(new Rule(count, pathContains, statusCode, errorCode, TimeSpan.Zero));
        }
    }

    /// <summary>The next <paramref name="count"/> requests (whose path contains <paramref name="pathContains"/>, if given) wait <paramref name="delay"/> before answering.</summary>
    public void DelayNext(int count, TimeSpan delay, string? pathContains = null)
    {
        lock (_lock)
        {
            _delays.Add(new Rule(count, pathContains, 0, null, delay));
        }
    }

    /// <summary>The next chat completion answers with this message content (finish_reason "stop" unless given).</summary>
    public void EnqueueChatContent(string content, string finishReason = "stop")
    {
        lock (_lock)
        {
            _chatAnswers.Enqueue((content, null, finishReason));
        }
    }

    /// <summary>The next chat completion answers with a refusal instead of content.</summary>
    public void EnqueueChatRefusal(string refusal)
    {
        lock (_lock)
        {
            _chatAnswers.Enqueue((null, refusal, "stop"));
        }
    }

    /// <summary>The un-normalised vector the server returns for <paramref name="text"/>: hashed words, so texts sharing words are similar.</summary>
    public static float[] EmbeddingFor(string text, int dimensions)
    {
        var vector = new float[dimensions];
        var words = text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string(w.Where(char.IsLetterOrDigit).ToArray()))
            .Where(w => w.Length > 0)
            .ToList();
        if (words.Count == 0)
        {
            vector[0] = 1;
        }

        foreach (var word in words)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(word));
            var index = (int)(BitConverter.ToUInt32(hash, 0) % (uint)dimensions);
            var sign = (hash[4] & 1) == 0 ? 1f : -1f;
            vector[index] += 3 * sign;
            vector[(index + 1 + hash[5]) % dimensions] += 0.5f;
        }

        return vector;
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var aborted = context.RequestAborted;
        var authorization = request.Headers.Authorization.ToString();
        var authorized = authorization == $"Bearer {ApiKey}";
        var headers = request.Headers
            .Where(h => !h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        if (authorization.Length > 0)
        {
            headers["Authorization"] = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? "Bearer [redacted]" : "[redacted]";
        }

        string? tempFile = null;
        try
        {
            FakeOpenAiRequest recorded;
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(aborted).ConfigureAwait(false);
                var file = form.Files.GetFile("file");
                double? duration = null;
                if (file is not null)
                {
                    tempFile = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fake-openai-{Guid.NewGuid():N}{System.IO.Path.GetExtension(file.FileName)}");
                    await using (var target = File.Create(tempFile))
                    {
                        await file.CopyToAsync(target, aborted).ConfigureAwait(false);
                    }

                    duration = await ProbeDurationAsync(tempFile, aborted).ConfigureAwait(false);
                }

                recorded = new FakeOpenAiRequest
                {
                    Method = request.Method,
                    Path = request.Path.Value ?? "",
                    Headers = headers,
                    Authorized = authorized,
                    Form = form.ToDictionary(f => f.Key, f => (IReadOnlyList<string>)f.Value.Select(v => v ?? "").ToList()),
                    FileName = file?.FileName,
                    FileSize = file?.Length,
                    FileDurationSeconds = duration,
                    ReceivedAt = DateTimeOffset.UtcNow,
                };
            }
            else
            {
                using var reader = new StreamReader(request.Body, Encoding.UTF8);
                var body = await reader.ReadToEndAsync(aborted).ConfigureAwait(false);
                JsonNode? json = null;
                try
                {
                    json = body.Length > 0 ? JsonNode.Parse(body) : null;
                }
                catch (JsonException)
                {
                }

                recorded = new FakeOpenAiRequest
                {
                    Method = request.Method,
                    Path = request.Path.Value ?? "",
                    Headers = headers,
                    Authorized = authorized,
                    Body = body,
                    Json = json,
                    SchemaName = json?["response_format"]?["json_schema"]?["name"]?.GetValue<string>(),
                    ReceivedAt = DateTimeOffset.UtcNow,
                };
            }

            lock (_lock)
            {
                _requests.Add(recorded);
            }

            var (status, answer, contentType, extraHeaders) = await AnswerAsync(recorded, authorization, aborted).ConfigureAwait(false);
            recorded.ResponseStatus = status;
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            foreach (var (name, value) in extraHeaders)
            {
                context.Response.Headers[name] = value;
            }

            await context.Response.WriteAsync(answer, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client gave up (timeout or cancellation); nothing to answer.
        }
        finally
        {
            if (tempFile is not null)
            {
                File.Delete(tempFile);
            }
        }
    }

    private async Task<(int Status, string Body, string ContentType, IReadOnlyList<(string, string)> Headers)> AnswerAsync(
        FakeOpenAiRequest request, string authorization, CancellationToken cancellationToken)
    {
        var delay = Take(_delays, request.Path);
        if (delay is not null)
        {
            await Task.Delay(delay.Delay, cancellationToken).ConfigureAwait(false);
        }

        if (request.Method != "POST")
        {
            return Error(405, $"Method {request.Method} is not supported.", "invalid_request_error", null);
        }

        if (!request.Authorized)
        {
            var presented = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..] : authorization;
            return presented.Length == 0
                ? Error(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.", "invalid_request_error", null)
                : Error(401, $"Incorrect API key provided: {presented}. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key");
        }

        var failure = Take(_failures, request.Path);
        if (failure is not null)
        {
            return failure.Status switch
            {
                429 => Error(429, "Rate limit reached for requests. Please try again in 1s.", "requests", failure.ErrorCode ?? "rate_limit_exceeded", [("Retry-After", "1")]),
                >= 500 => Error(failure.Status, "The server had an error while processing your request. Sorry about that!", "server_error", failure.ErrorCode),
                _ => Error(failure.Status, "The request was rejected by the fake server.", "invalid_request_error", failure.ErrorCode),
            };
        }

        return request.Path switch
        {
            "/v1/audio/transcriptions" => Transcribe(request),
            "/v1/chat/completions" => Chat(request),
            "/v1/embeddings" => Embed(request),
            _ => Error(404, $"Invalid URL (POST {request.Path})", "invalid_request_error", null),
        };
    }

    private (int, string, string, IReadOnlyList<(string, string)>) Transcribe(FakeOpenAiRequest request)
    {
        if (request.FileSize is null)
        {
            return Error(400, "Missing required parameter: 'file'.", "invalid_request_error", null);
        }

        if (request.FileSize > MaxUploadBytes)
        {
            return Error(413, $"Maximum content size limit ({MaxUploadBytes}) exceeded ({request.FileSize} bytes read)", "invalid_request_error", null);
        }

        if (string.IsNullOrEmpty(request.FormValue("model")))
        {
            return Error(400, "Missing required parameter: 'model'.", "invalid_request_error", null);
        }

        if (request.FileDurationSeconds is not { } duration)
        {
            return Error(400, "Invalid file format. The audio file could not be decoded or its format is not supported.", "invalid_request_error", null);
        }

        if (TranscriptionResponder?.Invoke(request) is { } raw)
        {
            return (200, raw, "application/json", []);
        }

        var segments = SegmentScript?.Invoke(duration) ?? DefaultSegments(duration);
        var text = string.Join(' ', segments.Select(s => s.Text));
        var format = request.FormValue("response_format") ?? "json";
        var granularities = request.FormValues("timestamp_granularities[]");
        JsonObject answer;
        switch (format)
        {
            case "text":
                return (200, text, "text/plain", []);
            case "json":
                answer = new JsonObject { ["text"] = text };
                break;
            case "verbose_json":
                answer = new JsonObject
                {
                    ["task"] = "transcribe",
                    ["language"] = Language,
                    ["duration"] = Math.Round(duration, 2),
                    ["text"] = text,
                };
                if (granularities.Count == 0 || granularities.Contains("segment"))
                {
                    answer["segments"] = new JsonArray(segments.Select((s, i) => (JsonNode)VerboseSegment(s, i)).ToArray());
                }

                if (granularities.Contains("word"))
                {
                    answer["words"] = new JsonArray(segments.SelectMany(Words).Select(w => (JsonNode)new JsonObject
                    {
                        ["word"] = w.Text,
                        ["start"] = w.Start,
                        ["end"] = w.End,
                    }).ToArray());
                }

                break;
            case "diarized_json":
                answer = new JsonObject
                {
                    ["task"] = "transcribe",
                    ["duration"] = Math.Round(duration, 2),
                    ["text"] = text,
                    ["segments"] = new JsonArray(segments.Select((s, i) => (JsonNode)new JsonObject
                    {
                        ["type"] = "transcript.text.segment",
                        ["id"] = $"seg_{i:D3}",
                        ["start"] = s.Start,
                        ["end"] = s.End,
                        ["text"] = s.Text,
                        ["speaker"] = s.Speaker ?? (i % 2 == 0 ? "A" : "B"),
                    }).ToArray()),
                    ["usage"] = new JsonObject { ["type"] = "duration", ["seconds"] = (int)Math.Ceiling(duration) },
                };
                break;
            default:
                return Error(400, $"Unsupported response_format '{format}' (the fake knows text, json, verbose_json, diarized_json).", "invalid_request_error", null);
        }

        return (200, answer.ToJsonString(), "application/json", []);
    }

    private JsonObject VerboseSegment(FakeSegment segment, int index)
    {
        var node = new JsonObject
        {
            ["id"] = index,
            ["seek"] = (int)(segment.Start * 100),
            ["start"] = segment.Start,
            ["end"] = segment.End,
            ["text"] = " " + segment.Text,
            ["tokens"] = new JsonArray(50364, 1000 + index),
            ["temperature"] = 0.0,
            ["avg_logprob"] = -0.25,
            ["compression_ratio"] = 1.3,
            ["no_speech_prob"] = 0.01,
        };
        var speaker = segment.Speaker ?? (IncludeSpeakers ? $"SPEAKER_{index % 2:D2}" : null);
        if (speaker is not null)
        {
            node["speaker"] = speaker;
        }

        return node;
    }

    private List<FakeSegment> DefaultSegments(double duration)
    {
        var length = SegmentSeconds > 0 ? SegmentSeconds : 5;
        // Like Whisper, a last bit under half a second joins the previous segment instead of making its own.
        var count = Math.Max(1, (int)Math.Ceiling((duration - 0.5) / length));
        var segments = new List<FakeSegment>(count);
        for (var i = 0; i < count; i++)
        {
            var start = Math.Round(i * length, 2);
            var end = Math.Round(i == count - 1 ? duration : (i + 1) * length, 2);
            segments.Add(new FakeSegment(start, Math.Max(start, end), Sentences.Count == 0 ? "" : Sentences[i % Sentences.Count]));
        }

        return segments;
    }

    private static IEnumerable<FakeSegment> Words(FakeSegment segment)
    {
        var words = segment.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var step = words.Length == 0 ? 0 : (segment.End - segment.Start) / words.Length;
        for (var i = 0; i < words.Length; i++)
        {
            yield return new FakeSegment(Math.Round(segment.Start + i * step, 2), Math.Round(segment.Start + (i + 1) * step, 2), words[i].Trim('.', ',', '!', '?'));
        }
    }

    private (int, string, string, IReadOnlyList<(string, string)>) Chat(FakeOpenAiRequest request)
    {
        var json = request.Json;
        var model = json?["model"]?.GetValue<string>();
        if (string.IsNullOrEmpty(model) || json?["messages"] is not JsonArray messages || messages.Count == 0)
        {
            return Error(400, "'model' and 'messages' are required.", "invalid_request_error", null);
        }

        if (json["response_format"]?["json_schema"] is JsonObject jsonSchema && jsonSchema["strict"]?.GetValue<bool>() == true
            && StrictSchemaProblem(jsonSchema["schema"], "") is { } problem)
        {
            return Error(400, $"Invalid schema for response_format '{request.SchemaName}': {problem}", "invalid_request_error", "invalid_json_schema");
        }

        (string? Content, string? Refusal, string FinishReason)? queued = null;
        lock (_lock)
        {
            if (_chatAnswers.Count > 0)
            {
                queued = _chatAnswers.Dequeue();
            }
        }

        var userText = string.Join("\n", messages.Where(m => m?["role"]?.GetValue<string>() == "user").Select(m => MessageText(m!["content"])));
        var (content, refusal, finish) = queued ?? (ChatResponder?.Invoke(request) ?? DefaultChatContent(request.SchemaName, userText), null, "stop");
        var answer = new JsonObject
        {
            ["id"] = $"chatcmpl-{Guid.NewGuid():N}",
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = content,
                    ["refusal"] = refusal,
                },
                ["logprobs"] = null,
                ["finish_reason"] = finish,
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = request.Body!.Length / 4,
                ["completion_tokens"] = (content?.Length ?? 0) / 4,
                ["total_tokens"] = (request.Body.Length + (content?.Length ?? 0)) / 4,
            },
            ["system_fingerprint"] = "fp_fake",
        };
        return (200, answer.ToJsonString(), "application/json", []);
    }

    private static string MessageText(JsonNode? content) => content switch
    {
        JsonValue value => value.GetValue<string>(),
        JsonArray parts => string.Join("\n", parts.Select(p => p?["text"]?.GetValue<string>()).Where(t => t is not null)),
        _ => "",
    };

    // OpenAI's strict mode: every object lists all its properties as required and sets additionalProperties to false.
    private static string? StrictSchemaProblem(JsonNode? schema, string path)
    {
        if (schema is not JsonObject node)
        {
            return null;
        }

        if (node["type"]?.GetValue<string>() == "object")
        {
            if (node["additionalProperties"]?.GetValue<bool>() != false)
            {
                return $"In context=({path}), 'additionalProperties' is required to be supplied and to be false.";
            }

            var properties = node["properties"] as JsonObject ?? [];
            var required = (node["required"] as JsonArray ?? []).Select(r => r?.GetValue<string>()).ToHashSet();
            foreach (var (name, child) in properties)
            {
                if (!required.Contains(name))
                {
                    return $"In context=({path}), 'required' is required to be supplied and to be an array including every key in properties. Missing '{name}'.";
                }

                if (StrictSchemaProblem(child, path.Length == 0 ? $"'properties', '{name}'" : $"{path}, 'properties', '{name}'") is { } problem)
                {
                    return problem;
                }
            }
        }

        return StrictSchemaProblem(node["items"], $"{path}, 'items'");
    }

    private static string DefaultChatContent(string? schemaName, string userText)
    {
        var transcript = userText.Contains("Transcript:", StringComparison.Ordinal) ? userText[(userText.IndexOf("Transcript:", StringComparison.Ordinal) + 11)..].Trim() : userText;
        var title = userText.Split('\n').FirstOrDefault(l => l.StartsWith("Video title:", StringComparison.Ordinal))?[12..].Trim() is { Length: > 0 } t ? t : "The video";
        var sentences = transcript.Split(['.', '!', '?'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(s => s.Length > 0).ToList();
        var summary = sentences.Count == 0 ? "The video has no speech." : string.Join(". ", sentences.Take(2)) + ".";
        var topics = transcript.ToLowerInvariant()
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string(w.Where(char.IsLetter).ToArray()))
            .Where(w => w.Length > 5)
            .GroupBy(w => w)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(3)
            .Select(g => g.Key)
            .ToList();
        JsonObject answer = schemaName switch
        {
            "analysis" => new JsonObject
            {
                ["summary"] = summary,
                ["topics"] = new JsonArray(topics.Select(x => (JsonNode)x).ToArray()),
                ["sentiment"] = new JsonObject { ["label"] = "positive", ["score"] = 0.4 },
                ["category"] = "Education",
            },
            "content" => new JsonObject
            {
                ["title"] = $"{title}: what you need to know",
                ["blogPostMarkdown"] = $"## Introduction\n\n{summary}\n\n## Details\n\n{string.Join(". ", sentences.Take(6))}.\n\n## Conclusion\n\nThanks for reading.",
                ["xThread"] = new JsonArray(
                    $"1/3 {Clip(summary, 270)}",
                    $"2/3 Topics: {string.Join(", ", topics)}",
                    "3/3 Watch the full video for the details."),
                ["linkedInPost"] = $"{summary}\n\nWhat do you think?\n\n#video #learning",
            },
            _ => new JsonObject(),
        };
        return schemaName is "analysis" or "content" ? answer.ToJsonString() : "This is a reply from the fake OpenAI server.";
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];

    private (int, string, string, IReadOnlyList<(string, string)>) Embed(FakeOpenAiRequest request)
    {
        var json = request.Json;
        var model = json?["model"]?.GetValue<string>();
        var input = json?["input"];
        if (string.IsNullOrEmpty(model) || input is null)
        {
            return Error(400, "'model' and 'input' are required.", "invalid_request_error", null);
        }

        List<string> texts = input switch
        {
            JsonValue single => [single.GetValue<string>()],
            JsonArray many => many.Select(i => i is JsonValue v && v.TryGetValue<string>(out var s) ? s : "").ToList(),
            _ => [],
        };
        if (texts.Count == 0 || texts.Any(t => t.Length == 0))
        {
            return Error(400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "invalid_request_error", null);
        }

        var dimensions = json!["dimensions"]?.GetValue<int>() ?? 1536;
        var base64 = json["encoding_format"]?.GetValue<string>() == "base64";
        var items = texts.Select((text, index) =>
        {
            var vector = EmbeddingFor(text, dimensions);
            JsonNode embedding = base64
                ? JsonValue.Create(Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())))
                : new JsonArray(vector.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
            return (JsonNode)new JsonObject { ["object"] = "embedding", ["index"] = index, ["embedding"] = embedding };
        }).ToList();
        if (ReverseEmbeddingOrder)
        {
            items.Reverse();
        }

        var tokens = texts.Sum(t => Math.Max(1, t.Length / 4));
        var answer = new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(items.ToArray()),
            ["model"] = model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        };
        return (200, answer.ToJsonString(), "application/json", []);
    }

    private static (int, string, string, IReadOnlyList<(string, string)>) Error(int status, string message, string type, string? code, IReadOnlyList<(string, string)>? headers = null)
    {
        var body = new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code },
        };
        return (status, body.ToJsonString(), "application/json", headers ?? []);
    }

    private Rule? Take(List<Rule> rules, string path)
    {
        lock (_lock)
        {
            var rule = rules.FirstOrDefault(r => r.Remaining > 0 && (r.PathContains is null || path.Contains(r.PathContains, StringComparison.Ordinal)));
            if (rule is null)
            {
                return null;
            }

            rule.Remaining--;
            if (rule.Remaining == 0)
            {
                rules.Remove(rule);
            }

            return rule;
        }
    }

    private async Task<double?> ProbeDurationAsync(string path, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(FfprobePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-v", "error", "-show_entries", "format=duration", "-of", "default=noprint_wrappers=1:nokey=1", path })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        _ = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return process.ExitCode == 0 && double.TryParse((await output.ConfigureAwait(false)).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? seconds
            : null;
    }

    private sealed class Rule(int remaining, string? pathContains, int status, string? errorCode, TimeSpan delay)
    {
        public int Remaining { get; set; } = remaining;

        public string? PathContains { get; } = pathContains;

        public int Status { get; } = status;

        public string? ErrorCode { get; } = errorCode;

        public TimeSpan Delay { get; } = delay;
    }
}
