using MediaActors.Providers;
using System.Text.Json;
using MediaActors.Providers.Content;
using MediaActors.Providers.Transcription;
using Npgsql;

namespace MediaActors.Grains.Projects;

/// <summary>Reads of the project read model that steps need (committed by earlier turns).</summary>
public sealed class ProjectReads(NpgsqlDataSource dataSource)
{
    public async Task<Transcript> TranscriptAsync(Guid projectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT language, text, provider, model, segments::text FROM transcripts WHERE project_id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw StepException.Permanent("The project has no transcript yet.");
        }

        var segments = JsonSerializer.Deserialize<List<TranscriptSegment>>(reader.GetString(4), JsonDefaults.Options) ?? [];
        return new Transcript(reader.GetString(0), reader.GetString(1), segments, reader.GetString(2), reader.GetString(3));
    }

    /// <summary>The live parts stored for the project's transcription (in order), or null when there are none.</summary>
    public async Task<TranscriptionResume?> TranscriptPartsAsync(Guid projectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT plan, idx, parts, start_s, end_s, text, language, segments::text FROM transcript_parts WHERE project_id = $1 ORDER BY idx");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var parts = new List<TranscribedPart>();
        while (await reader.ReadAsync(cancellationToken))
        {
            parts.Add(new TranscribedPart(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetDouble(3), reader.GetDouble(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), JsonSerializer.Deserialize<List<TranscriptSegment>>(reader.GetString(7), JsonDefaults.Options) ?? []));
        }

        return parts.Count == 0 ? null : new TranscriptionResume(parts[0].Plan, parts);
    }

    public async Task<Analysis> AnalysisAsync(Guid projectId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT summary, topics::text, sentiment_label, sentiment_score, category, provider, model FROM analyses WHERE project_id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = projectId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw StepException.Permanent("The project has no analysis yet.");
        }

        return new Analysis(reader.GetString(0), JsonSerializer.Deserialize<List<string>>(reader.GetString(1)) ?? [], reader.GetString(2),
            reader.GetDouble(3), reader.GetString(4), reader.GetString(5), reader.GetString(6));
    }

    public async Task<BlobRef> UploadBlobAsync(Guid uploadId, string userId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT container, blob_name FROM uploads WHERE id = $1 AND user_id = $2 AND status = 'completed'");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = uploadId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw StepException.Permanent("The project's upload was not found or is not complete.");
        }

        return new BlobRef(reader.GetString(0), reader.GetString(1));
    }
}
