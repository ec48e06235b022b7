using System.Text.Json;

namespace MediaActors.SearchEval;

/// <summary>The retrieval set (bench/SearchEval/retrieval-set.json): passages by topic, and queries with their one right passage.</summary>
public sealed record RetrievalSet(string Description, IReadOnlyList<EvalPassage> Passages, IReadOnlyList<EvalQuery> Queries)
{
    public static RetrievalSet Load(string path) =>
        JsonSerializer.Deserialize<RetrievalSet>(File.ReadAllText(path), new JsonSerializerOptions(JsonSerializerDefaults.Web))
        ?? throw new InvalidDataException($"{path} is not a retrieval set.");

    /// <summary>The file in the repository, found from the working directory upwards.</summary>
    public static string DefaultPath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "bench", "SearchEval", "retrieval-set.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("bench/SearchEval/retrieval-set.json not found above " + AppContext.BaseDirectory);
    }
}

public sealed record EvalPassage(string Id, string Topic, string Text);

public sealed record EvalQuery(string Id, string Kind, string Text, IReadOnlyList<string> Relevant);
