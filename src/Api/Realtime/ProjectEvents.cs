using System.Text.Json;
using Npgsql;

namespace MediaActors.Api.Realtime;

/// <summary>A kind of event stream: the read-model table of its owners, and its name in errors.</summary>
public sealed record EventStream(string Table, string Name);

public static class EventStreams
{
    public static readonly EventStream Project = new("projects", "project");

    public static readonly EventStream PublishJob = new("publish_jobs", "publish job");

    public static readonly EventStream Video = new("videos", "video");
}

/// <summary>Reads of an event log (a project's or a publish job's) as clients see them, and who owns it.</summary>
public static class ProjectEvents
{
    public static async Task<IReadOnlyList<ProjectEventMessage>> ReadAsync(IServiceProvider services, Guid projectId, long after, int limit, CancellationToken cancellationToken)
    {
        var events = await services.GetRequiredService<EventFeed>().ReadAsync(projectId, after, limit, cancellationToken);
        return events.Select(ToMessage).ToList();
    }

    public static ProjectEventMessage ToMessage(StoredEvent e) => new(e.ProjectId.ToString(), e.Seq, e.Kind, Strip(e.Payload), e.At);

    public static async Task<bool> IsOwnerAsync(NpgsqlDataSource db, EventStream stream, Guid id, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT EXISTS (SELECT 1 FROM {stream.Table} WHERE id = $1 AND user_id = $2)");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Whether the user owns the project, publish job or video with this id (the hub's subscriptions take any).</summary>
    public static async Task<bool> IsOwnerOfAnyAsync(NpgsqlDataSource db, Guid projectId, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1 AND user_id = $2) OR EXISTS (SELECT 1 FROM publish_jobs WHERE id = $1 AND user_id = $2)
                OR EXISTS (SELECT 1 FROM videos WHERE id = $1 AND user_id = $2)
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The owner travels in the event for routing; clients do not need it.</summary>
    private static JsonElement Strip(JsonElement payload)
    {
        if (payload.ValueKind != JsonValueKind.Object || !payload.TryGetProperty("userId", out _))
        {
            return payload;
        }

        var copy = new Dictionary<string, JsonElement>();
        foreach (var property in payload.EnumerateObject().Where(p => p.Name != "userId"))
        {
            copy[property.Name] = property.Value;
        }

        return JsonSerializer.SerializeToElement(copy);
    }
}
