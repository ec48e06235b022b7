using System.Text.Json;
using MediaActors.Providers;
using Orleans.Storage;

namespace MediaActors.Silo;

/// <summary>
/// Grain state as plain JSON (camelCase, enums as names) in the ADO.NET storage: no .NET type names in the rows, so a
/// renamed or moved state class still reads its stored state, and operators can read the rows with SQL.
/// </summary>
public sealed class JsonGrainStateSerializer : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(input, JsonDefaults.Options));

    public T? Deserialize<T>(BinaryData input) => input.ToMemory().Length == 0 ? default : JsonSerializer.Deserialize<T>(input.ToMemory().Span, JsonDefaults.Options);
}
