using System.Text.Json;
using MediaActors.Providers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace MediaActors.Grains;

/// <summary>
/// How grain messages carry the providers' result records (Transcript, Analysis, MediaInfo...): as JSON, so that
/// src/Providers needs no Orleans attributes. Every silo and client registers it.
/// </summary>
public static class ContractSerialization
{
    public static ISerializerBuilder AddMediaActorsContracts(this ISerializerBuilder serializer)
    {
        serializer.AddJsonSerializer(
            isSupported: type => type.Namespace?.StartsWith("MediaActors.Providers", StringComparison.Ordinal) == true,
            jsonSerializerOptions: new JsonSerializerOptions(JsonDefaults.Options));
        return serializer;
    }
}
