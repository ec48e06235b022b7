using System.Security.Claims;
using MediaActors.Api.Auth;
using Npgsql;

namespace MediaActors.Api.Videos;

/// <summary>An entry of the avatar, voice or topic catalog as an operator writes it (gender for avatars and voices, language for voices).</summary>
public sealed record CatalogEntryRequest(string? Name, string? Gender, string? Language, string? Description, bool? Active);

/// <summary>
/// The catalog video requests choose from: <c>GET /api/videos/avatars</c>, <c>/voices</c>, <c>/topics</c> (active entries;
/// <c>?all=true</c> for operators includes inactive ones); operators add, change and deactivate entries with
/// <c>PUT /api/videos/{catalog}/{id}</c>. An operator is a user with the role claim "operator" (JWT) or listed in
/// <c>Auth:Operators</c>.
/// </summary>
public static class CatalogEndpoints
{
    public const string OperatorPolicy = "operator";
    private static readonly string[] Genders = ["female", "male", "neutral"];

    private sealed record Catalog(string Path, string Table, bool HasGender, bool HasLanguage);

    private static readonly Catalog[] Catalogs =
    [
        new("avatars", "avatar_catalog", true, false),
        new("voices", "voice_catalog", true, true),
        new("topics", "topic_catalog", false, false),
    ];

    /// <summary>The "operator" authorization policy: the role claim, or a user id listed in Auth:Operators.</summary>
    public static void AddOperatorPolicy(this IServiceCollection services, IConfiguration configuration)
    {
        var operators = configuration.GetSection("Auth:Operators").Get<string[]>() ?? [];
        services.AddAuthorizationBuilder().AddPolicy(OperatorPolicy, policy => policy.RequireAuthenticatedUser()
            .RequireAssertion(context => context.User.IsInRole("operator") || context.User.HasClaim("role", "operator")
                || operators.Contains(context.User.FindFirstValue(ClaimTypes.NameIdentifier))));
    }

    public static void MapCatalog(this RouteGroupBuilder videos)
    {
        foreach (var catalog in Catalogs)
        {
            videos.MapGet($"/{catalog.Path}", async (bool? all, HttpContext http, NpgsqlDataSource db, Microsoft.AspNetCore.Authorization.IAuthorizationService auth,
                CancellationToken ct) =>
            {
                var everything = all == true && (await auth.AuthorizeAsync(http.User, null, OperatorPolicy)).Succeeded;
                return Results.Ok(new { items = await ListAsync(db, catalog, everything, ct) });
            });
            videos.MapPut($"/{catalog.Path}/{{id}}", (string id, CatalogEntryRequest request, NpgsqlDataSource db, CancellationToken ct) => PutAsync(db, catalog, id, request, ct))
                .RequireAuthorization(OperatorPolicy);
        }
    }

    private static async Task<List<Dictionary<string, object?>>> ListAsync(NpgsqlDataSource db, Catalog catalog, bool all, CancellationToken cancellationToken)
    {
        var columns = "id, name, description, active, updated_at" + (catalog.HasGender ? ", gender" : "") + (catalog.HasLanguage ? ", language" : "");
        await using var command = db.CreateCommand($"SELECT {columns} FROM {catalog.Table} {(all ? "" : "WHERE active")} ORDER BY name, id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var item = new Dictionary<string, object?>
            {
                ["id"] = reader.GetString(0),
                ["name"] = reader.GetString(1),
                ["description"] = reader.GetString(2),
                ["active"] = reader.GetBoolean(3),
                ["updatedAt"] = new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero),
            };
            if (catalog.HasGender)
            {
                item["gender"] = reader.GetString(5);
            }

            if (catalog.HasLanguage)
            {
                item["language"] = reader.GetString(6);
            }

            items.Add(item);
        }

        return items;
    }

    /// <summary>Creates or replaces an entry (deactivate with active: false: videos that used it keep their copy).</summary>
    private static async Task<IResult> PutAsync(NpgsqlDataSource db, Catalog catalog, string id, CatalogEntryRequest request, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (id.Length > 60 || !id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            errors["id"] = ["Lowercase letters, digits and '-', at most 60."];
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            errors["name"] = ["1 to 100 characters."];
        }

        if (catalog.HasGender && !Genders.Contains(request.Gender))
        {
            errors["gender"] = ["One of female, male, neutral."];
        }

        if (catalog.HasLanguage && request.Language is { } language && (language.Length is < 2 or > 20))
        {
            errors["language"] = ["A language tag such as en-US."];
        }

        if (request.Description is { Length: > 500 })
        {
            errors["description"] = ["At most 500 characters."];
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest("The catalog entry is not valid: see errors.", errors);
        }

        var columns = new List<string> { "id", "name", "description", "active", "updated_at" };
        var values = new List<object> { id, request.Name!.Trim(), request.Description?.Trim() ?? "", request.Active ?? true, DateTime.UtcNow };
        if (catalog.HasGender)
        {
            columns.Add("gender");
            values.Add(request.Gender!);
        }

        if (catalog.HasLanguage)
        {
            columns.Add("language");
            values.Add(request.Language ?? "en-US");
        }

        var placeholders = string.Join(", ", values.Select((_, i) => $"${i + 1}"));
        var updates = string.Join(", ", columns.Skip(1).Select(c => $"{c} = excluded.{c}"));
        await using var command = db.CreateCommand($"INSERT INTO {catalog.Table} ({string.Join(", ", columns)}) VALUES ({placeholders}) ON CONFLICT (id) DO UPDATE SET {updates}");
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
        return Results.Ok(new { id, name = request.Name.Trim(), gender = request.Gender, language = catalog.HasLanguage ? request.Language ?? "en-US" : null,
            description = request.Description?.Trim() ?? "", active = request.Active ?? true });
    }
}
