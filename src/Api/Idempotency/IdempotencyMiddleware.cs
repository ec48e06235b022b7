using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using MediaActors.Api.Auth;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Api.Idempotency;

/// <summary>
/// Runs a create endpoint once per user and <c>Idempotency-Key</c>. The first request with a key claims it (a row in
/// <c>idempotency_keys</c> with the request's fingerprint and the id reserved for what it creates), runs the endpoint with
/// its answer held back, keeps a 2xx answer and then sends it; another request with the key gets that answer again
/// (<c>Idempotent-Replayed: true</c>), 422 if its fingerprint differs, or, while the first still runs, waits for it (409
/// with <c>Retry-After</c> after <see cref="IdempotencyOptions.WaitForInProgress"/>). Other answers are not kept: the
/// claim is given up and a retry runs the endpoint again. A retry also takes over the claim of a request whose API host
/// died (its heartbeats stopped for <see cref="IdempotencyOptions.ClaimLease"/>): it creates with the same reserved id,
/// and every create endpoint is idempotent for its id, so what the dead request created is found, not made twice.
/// </summary>
public sealed class IdempotencyMiddleware
{
    /// <summary>
    /// TEST HOOK, off unless this configuration key is true: the API host kills itself (SIGKILL) right after a create with an
    /// Idempotency-Key succeeded and before its answer is kept, as if it died at the worst moment. Only the end-to-end
    /// tests set it (IdempotencyTests); the host logs a warning at start when it is on.
    /// </summary>
    public const string KillBeforeStoringHook = "Idempotency:TestHooks:KillBeforeStoringResponse";

    private static readonly TimeSpan MaxPollDelay = TimeSpan.FromMilliseconds(500);

    private readonly RequestDelegate _next;
    private readonly IdempotencyStore _store;
    private readonly IdempotencyOptions _options;
    private readonly long _maxBodyBytes;
    private readonly bool _killBeforeStoring;
    private readonly ILogger<IdempotencyMiddleware> _logger;

    public IdempotencyMiddleware(RequestDelegate next, IdempotencyStore store, IOptions<IdempotencyOptions> options, IOptions<LimitOptions> limits,
        IConfiguration configuration, ILogger<IdempotencyMiddleware> logger)
    {
        _next = next;
        _store = store;
        _options = options.Value;
        _maxBodyBytes = limits.Value.MaxRequestBodyBytes;
        _logger = logger;
        _killBeforeStoring = configuration.GetValue<bool>(KillBeforeStoringHook);
        if (_killBeforeStoring)
        {
            logger.LogWarning("Test hook {Hook} is on: this API host kills itself after a create with an Idempotency-Key succeeded, before keeping its answer",
                KillBeforeStoringHook);
        }
    }

    public async Task InvokeAsync(HttpContext http)
    {
        var metadata = http.GetEndpoint()?.Metadata;
        var refused = metadata?.GetMetadata<IdempotencyKeyRefused>();
        if ((metadata?.GetMetadata<IdempotentCreate>() is null && refused is null) || !http.Request.Headers.TryGetValue(IdempotencyKeys.Header, out var values))
        {
            await _next(http);
            return;
        }

        if (refused is not null)
        {
            await Problems.BadRequest(refused.Reason).ExecuteAsync(http);
            return;
        }

        if (values.Count != 1 || !IdempotencyKeys.IsValidKey(values[0]))
        {
            await Problems.BadRequest($"{IdempotencyKeys.Header} must be one value of 1 to {IdempotencyKeys.MaxKeyLength} printable ASCII characters (a UUID is a good key).")
                .ExecuteAsync(http);
            return;
        }

        var body = await ReadAtMostAsync(http, _maxBodyBytes);
        if (body is null)
        {
            http.Response.Headers.Connection = "close";
            await Problems.TooLarge($"The request body is larger than {_maxBodyBytes} bytes (Limits:MaxRequestBodyBytes).").ExecuteAsync(http);
            return;
        }

        var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.Value ?? "";
        await RunOnceAsync(http, http.User.UserId(), values[0]!, IdempotencyKeys.Fingerprint(http.Request.Method, route, body));
    }

    private async Task RunOnceAsync(HttpContext http, string userId, string key, byte[] fingerprint)
    {
        var token = Guid.NewGuid();
        var waiting = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(50);
        var unknown = true;
        while (true)
        {
            var reserved = Guid.CreateVersion7();
            if (unknown && await _store.TryClaimNewAsync(userId, key, fingerprint, reserved, token, http.RequestAborted))
            {
                await RunClaimedAsync(http, userId, key, token, new IdempotentRequest(reserved));
                return;
            }

            var record = await _store.FindAsync(userId, key, http.RequestAborted);
            // Gone since (its lifetime ended): claimed anew at the next turn.
            unknown = record is null;
            if (record is not null)
            {
                if (!CryptographicOperations.FixedTimeEquals(record.Fingerprint, fingerprint))
                {
                    await Results.Problem(title: "Idempotency-Key reused.", statusCode: StatusCodes.Status422UnprocessableEntity,
                        detail: $"This {IdempotencyKeys.Header} was used within {_options.Lifetime.TotalHours:0.#} h for another request (another body or endpoint). " +
                            "Send a new key with a new request.").ExecuteAsync(http);
                    return;
                }

                if (record.Response is { } response)
                {
                    await ReplayAsync(http, response);
                    return;
                }

                if (!record.Running && await _store.TryTakeOverAsync(userId, key, fingerprint, token, http.RequestAborted) is { } resourceId)
                {
                    await RunClaimedAsync(http, userId, key, token, new IdempotentRequest(resourceId));
                    return;
                }

                if (waiting.Elapsed >= _options.WaitForInProgress)
                {
                    var retryAfter = Math.Clamp((int)Math.Ceiling(record.LeaseLeft.TotalSeconds), 1, Math.Max(1, (int)Math.Ceiling(_options.ClaimLease.TotalSeconds)));
                    http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                    await Problems.Conflict($"A request with this {IdempotencyKeys.Header} is still running. Retry after {retryAfter} s to get its answer.")
                        .ExecuteAsync(http);
                    return;
                }
            }

            // The running request's answer (or its lease running out) is looked for again shortly.
            await Task.Delay(delay, http.RequestAborted);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxPollDelay.Ticks));
        }
    }

    /// <summary>Runs the endpoint under the claim, its answer held back until it is kept (a 2xx) or the claim is given up (anything else).</summary>
    private async Task RunClaimedAsync(HttpContext http, string userId, string key, Guid token, IdempotentRequest request)
    {
        http.Features.Set(request);
        byte[] answer;
        try
        {
            answer = await RunHeldBackAsync(http, userId, key, token);
        }
        catch
        {
            await ReleaseAsync(userId, key, token);
            throw;
        }

        var status = http.Response.StatusCode;
        if (status is < 200 or > 299)
        {
            await ReleaseAsync(userId, key, token);
        }
        else if (answer.Length > _options.MaxResponseBytes)
        {
            _logger.LogWarning("The answer to {Path} is {Bytes} bytes, over Idempotency:MaxResponseBytes: not kept, a retry with its key creates again with the same id",
                http.Request.Path.Value, answer.Length);
            await ReleaseAsync(userId, key, token);
        }
        else
        {
            if (_killBeforeStoring)
            {
                // The test hook (see KillBeforeStoringHook): created, nothing kept, nothing answered.
                await Console.Error.WriteLineAsync($"{KillBeforeStoringHook}: killing the API host after creating {request.ResourceId}");
                Process.GetCurrentProcess().Kill();
            }

            try
            {
                await _store.CompleteAsync(userId, key, request.ResourceId,
                    new StoredResponse(status, http.Response.ContentType, http.Response.Headers.Location.ToString() is { Length: > 0 } location ? location : null, answer),
                    CancellationToken.None);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                // The claim stays until its lease runs out; then a retry creates again with the same id and finds what this one made.
                _logger.LogWarning(ex, "Keeping the answer of an idempotent create failed; a retry with its key will create {ResourceId} again (idempotently)",
                    request.ResourceId);
            }
        }

        if (answer.Length > 0)
        {
            await http.Response.Body.WriteAsync(answer, http.RequestAborted);
        }
    }

    /// <summary>The endpoint's answer (its status and headers set on the response, its body returned), with heartbeats on the claim meanwhile.</summary>
    private async Task<byte[]> RunHeldBackAsync(HttpContext http, string userId, string key, Guid token)
    {
        using var stop = new CancellationTokenSource();
        var heartbeats = HeartbeatAsync(userId, key, token, stop.Token);
        var original = http.Response.Body;
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            await _next(http);
            return buffer.ToArray();
        }
        finally
        {
            http.Response.Body = original;
            await stop.CancelAsync();
            await heartbeats;
        }
    }

    private async Task HeartbeatAsync(string userId, string key, Guid token, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(100, _options.ClaimLease.TotalMilliseconds / 3)));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    if (!await _store.RenewAsync(userId, key, token, cancellationToken))
                    {
                        return;
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    // A missed heartbeat at worst lets a retry run the create too: with the same id, so it finds the same thing.
                    _logger.LogDebug(ex, "Renewing an idempotency claim failed");
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReleaseAsync(string userId, string key, Guid token)
    {
        try
        {
            await _store.ReleaseAsync(userId, key, token, CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The claim then lapses with its lease: a retry waits that long at most.
            _logger.LogWarning(ex, "Giving up an idempotency claim failed; it lapses after Idempotency:ClaimLease");
        }
    }

    private static async Task ReplayAsync(HttpContext http, StoredResponse response)
    {
        http.Response.StatusCode = response.Status;
        if (response.ContentType is { } contentType)
        {
            http.Response.ContentType = contentType;
        }

        if (response.Location is { } location)
        {
            http.Response.Headers.Location = location;
        }

        http.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        http.Response.ContentLength = response.Body.Length;
        await http.Response.Body.WriteAsync(response.Body, http.RequestAborted);
    }

    /// <summary>
    /// The request body (at most <paramref name="limit"/> bytes, else null), left readable again from its start for the
    /// endpoint. A JSON body was read into memory by the body guard already.
    /// </summary>
    private static async Task<byte[]?> ReadAtMostAsync(HttpContext http, long limit)
    {
        http.Request.EnableBuffering();
        using var copy = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (copy.Length + read > limit)
            {
                return null;
            }

            copy.Write(chunk, 0, read);
        }

        http.Request.Body.Position = 0;
        return copy.ToArray();
    }
}
