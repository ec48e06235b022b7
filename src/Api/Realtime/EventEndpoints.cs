using System.Text.Json;
using System.Threading.Channels;
using MediaActors.Api.Auth;
using Npgsql;

namespace MediaActors.Api.Realtime;

/// <summary>
/// The events of a project or of a publish job over plain HTTP: catch-up by sequence number, and a server-sent-event
/// stream for clients without SignalR.
/// </summary>
public static class EventEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapProjectEvents(this IEndpointRouteBuilder app) =>
        app.MapGroup("/api/projects/{id:guid}/events").RequireAuthorization().WithTags("Events").MapEvents(EventStreams.Project);

    /// <summary>/api/publish/{id}/events and /api/publish/{id}/events/stream.</summary>
    public static void MapPublishEvents(this RouteGroupBuilder publish) => publish.MapGroup("/{id:guid}/events").WithTags("Events").MapEvents(EventStreams.PublishJob);

    /// <summary>GET / (catch-up) and GET /stream (server-sent events) of one kind of stream on <paramref name="group"/> (which has {id:guid}).</summary>
    internal static void MapEvents(this RouteGroupBuilder group, EventStream stream)
    {
        group.MapGet("/", (Guid id, long? after, int? limit, HttpContext http, NpgsqlDataSource db, CancellationToken ct) => ListAsync(stream, id, after, limit, http, db, ct));
        group.MapGet("/stream", (Guid id, long? after, HttpContext http, NpgsqlDataSource db, EventRelay relay, CancellationToken ct) => StreamAsync(stream, id, after, http, db, relay, ct));
    }

    private static async Task<IResult> ListAsync(EventStream stream, Guid id, long? after, int? limit, HttpContext http, NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        if (after is < 0 || limit is < 1 or > 1000)
        {
            return Problems.BadRequest("after must be 0 or more and limit between 1 and 1000.");
        }

        if (!await ProjectEvents.IsOwnerAsync(db, stream, id, http.User.UserId(), cancellationToken))
        {
            return Problems.NotFound(stream.Name);
        }

        var items = await ProjectEvents.ReadAsync(http.RequestServices, id, after ?? 0, limit ?? 500, cancellationToken);
        // Events older than Events:Retention are deleted: say so when some right after `after` are gone, so the
        // client re-reads the project or job instead of trusting an incomplete history.
        var firstKept = items.Count > 0 ? items[0].Seq : await LatestSeqAsync(db, stream, id, cancellationToken) + 1;
        return Results.Ok(new { items, lastSeq = items.Count > 0 ? items[^1].Seq : after ?? 0, gap = firstKept > (after ?? 0) + 1 });
    }

    /// <summary>The last event sequence number (kept in the read-model row, so retention does not lower it).</summary>
    private static async Task<long> LatestSeqAsync(NpgsqlDataSource db, EventStream stream, Guid id, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT event_seq FROM {stream.Table} WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return await command.ExecuteScalarAsync(cancellationToken) is long seq ? seq : 0;
    }

    /// <summary>Sends what the client missed (after ?after= or Last-Event-ID), then live events, each with id = its sequence number.</summary>
    private static async Task StreamAsync(EventStream stream, Guid id, long? after, HttpContext http, NpgsqlDataSource db, EventRelay relay, CancellationToken cancellationToken)
    {
        var userId = http.User.UserId();
        if (!await ProjectEvents.IsOwnerAsync(db, stream, id, userId, cancellationToken))
        {
            await Problems.NotFound(stream.Name).ExecuteAsync(http);
            return;
        }

        var last = after ?? (long.TryParse(http.Request.Headers["Last-Event-ID"], out var lastEventId) ? lastEventId : 0);
        // Subscribe before reading the backlog, so nothing committed in between is missed; duplicates are dropped by sequence.
        var live = Channel.CreateBounded<ProjectEventMessage>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });
        var key = id.ToString();
        Func<ProjectEventMessage, string, ValueTask> onEvent = (message, _) =>
        {
            if (message.ProjectId == key)
            {
                live.Writer.TryWrite(message);
            }

            return ValueTask.CompletedTask;
        };
        relay.Received += onEvent;
        try
        {
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers["X-Accel-Buffering"] = "no";
            await http.Response.Body.FlushAsync(cancellationToken);
            foreach (var message in await ProjectEvents.ReadAsync(http.RequestServices, id, last, 10_000, cancellationToken))
            {
                last = await WriteAsync(http, message, last, cancellationToken);
            }

            while (!cancellationToken.IsCancellationRequested)
            {
                using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                heartbeat.CancelAfter(TimeSpan.FromSeconds(15));
                try
                {
                    var message = await live.Reader.ReadAsync(heartbeat.Token);
                    if (message.Seq > last + 1)
                    {
                        // A gap (the stream's buffer overflowed): fill it from the log.
                        foreach (var missed in await ProjectEvents.ReadAsync(http.RequestServices, id, last, 10_000, cancellationToken))
                        {
                            last = await WriteAsync(http, missed, last, cancellationToken);
                        }
                    }

                    last = await WriteAsync(http, message, last, cancellationToken);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", cancellationToken);
                    await http.Response.Body.FlushAsync(cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            relay.Received -= onEvent;
        }
    }

    private static async Task<long> WriteAsync(HttpContext http, ProjectEventMessage message, long last, CancellationToken cancellationToken)
    {
        if (message.Seq <= last)
        {
            return last;
        }

        await http.Response.WriteAsync($"id: {message.Seq}\nevent: {message.Kind}\ndata: {JsonSerializer.Serialize(message, Json)}\n\n", cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
        return message.Seq;
    }
}
