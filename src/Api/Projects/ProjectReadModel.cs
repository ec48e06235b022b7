using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MediaActors.Providers.Transcription;
using MediaActors.Grains.Projects;
using MediaActors.Providers;
using Npgsql;

namespace MediaActors.Api.Projects;

/// <summary>A project as the API shows it.</summary>
public sealed record ProjectResponse(
    Guid Id,
    string Title,
    string Status,
    string? Step,
    int Progress,
    JsonElement Steps,
    string? Error,
    JsonElement Source,
    JsonElement? Media,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public string? ThumbnailUrl { get; init; }

    public string? VideoUrl { get; init; }

    [JsonIgnore]
    public string? ThumbnailBlob { get; init; }

    [JsonIgnore]
    public string? VideoContainer { get; init; }

    [JsonIgnore]
    public string? VideoBlob { get; init; }
}

/// <summary>
/// A transcript as the API shows it. <see cref="Partial"/>: the transcribing step has not finished, and these are the
/// segments of its first <see cref="Parts"/> parts of <see cref="PartsTotal"/>, in time order, final as they are.
/// </summary>
public sealed record TranscriptView(Guid ProjectId, string Language, string Text, string Provider, string Model, IReadOnlyList<TranscriptSegment> Segments,
    bool Partial = false)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Parts { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? PartsTotal { get; init; }
}

/// <summary>Queries of the project read model, always filtered by the owner.</summary>
public static class ProjectReadModel
{
    private const string Columns =
        "id, title, status, step, progress, steps::text, error, source::text, media::text, created_at, updated_at, thumbnail_blob, video_blob";

    public static async Task<ProjectResponse?> GetAsync(NpgsqlDataSource db, Guid id, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM projects WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Newest first; the cursor is the (created_at, id) of the last item of the previous page.</summary>
    public static async Task<(List<ProjectResponse> Items, string? NextCursor)> ListAsync(
        NpgsqlDataSource db, string userId, string? status, int limit, (DateTime CreatedAt, Guid Id)? after, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            $"""
            SELECT {Columns} FROM projects
            WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
              AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
            ORDER BY created_at DESC, id DESC
            LIMIT $5
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } a ? a.CreatedAt : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = after is { } b ? b.Id : Guid.Empty, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var items = new List<ProjectResponse>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(Read(reader));
        }

        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            var last = items[^1];
            next = EncodeCursor(last.CreatedAt, last.Id);
        }

        return (items, next);
    }

    /// <summary>The opaque cursor of a keyset page: the (time, id) of the last item.</summary>
    public static string EncodeCursor(DateTimeOffset at, Guid id) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{at.UtcTicks}:{id}"));

    public static (DateTime CreatedAt, Guid Id)? DecodeCursor(string cursor)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(cursor)).Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && ticks > 0 && ticks < DateTime.MaxValue.Ticks && Guid.TryParse(parts[1], out var id)
                ? (new DateTime(ticks, DateTimeKind.Utc), id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public static async Task<TranscriptView?> TranscriptAsync(NpgsqlDataSource db, Guid id, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT language, text, provider, model, segments::text FROM transcripts WHERE project_id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new TranscriptView(id, reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            JsonSerializer.Deserialize<List<TranscriptSegment>>(reader.GetString(4), JsonDefaults.Options) ?? []);
    }

    /// <summary>The live parts of a transcription in progress joined (the leading run 0, 1, 2... of them); null when there are none.</summary>
    public static async Task<TranscriptView?> PartialTranscriptAsync(NpgsqlDataSource db, Guid id, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT plan, idx, parts, text, language, segments::text FROM transcript_parts WHERE project_id = $1 AND user_id = $2 ORDER BY idx");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        string? plan = null;
        string? language = null;
        var total = 0;
        var texts = new List<string>();
        var segments = new List<TranscriptSegment>();
        while (await reader.ReadAsync(cancellationToken) && reader.GetInt32(1) == texts.Count)
        {
            plan ??= reader.GetString(0);
            total = reader.GetInt32(2);
            language ??= reader.IsDBNull(4) ? null : reader.GetString(4);
            texts.Add(reader.GetString(3));
            segments.AddRange(JsonSerializer.Deserialize<List<TranscriptSegment>>(reader.GetString(5), JsonDefaults.Options) ?? []);
        }

        if (plan is null)
        {
            return null;
        }

        // A plan is named provider/model/digest (the model may hold a slash).
        var provider = plan[..plan.IndexOf('/', StringComparison.Ordinal)];
        var model = plan[(provider.Length + 1)..plan.LastIndexOf('/')];
        return new TranscriptView(id, language ?? "und", string.Join(' ', texts.Where(t => t.Length > 0)), provider, model, segments, Partial: true)
        {
            Parts = texts.Count,
            PartsTotal = total,
        };
    }

    /// <summary>Runs a query returning one JSON text column for (id, user); null when there is no row.</summary>
    public static async Task<string?> JsonRowAsync(NpgsqlDataSource db, string sql, Guid id, string userId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static ProjectResponse Read(NpgsqlDataReader reader)
    {
        var video = reader.IsDBNull(12) ? null : reader.GetString(12);
        var slash = video?.IndexOf('/') ?? -1;
        return new ProjectResponse(
            reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4),
            Json(reader.GetString(5)), reader.IsDBNull(6) ? null : reader.GetString(6), Json(reader.GetString(7)),
            reader.IsDBNull(8) ? null : Json(reader.GetString(8)),
            reader.GetFieldValue<DateTimeOffset>(9), reader.GetFieldValue<DateTimeOffset>(10))
        {
            ThumbnailBlob = reader.IsDBNull(11) ? null : reader.GetString(11),
            VideoContainer = slash > 0 ? video![..slash] : null,
            VideoBlob = slash > 0 ? video![(slash + 1)..] : null,
        };
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static string Name<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>The project as its grain reports it, in the read model's shape.</summary>
    public static ProjectResponse FromGrain(ProjectView view) =>
        new(view.Id, view.Title, Name(view.Status), view.Step is { } step ? Name(step) : null, view.Progress,
            JsonSerializer.SerializeToElement(view.Steps, JsonDefaults.Options), view.Error, JsonSerializer.SerializeToElement(view.Source, JsonDefaults.Options),
            view.Media is null ? null : JsonSerializer.SerializeToElement(view.Media, JsonDefaults.Options), view.CreatedAt, view.UpdatedAt)
        {
            ThumbnailBlob = view.Thumbnail?.Name,
            VideoContainer = view.Video?.Container,
            VideoBlob = view.Video?.Name,
        };
}
