using MediaActors.Api.Idempotency;
using Npgsql;

namespace MediaActors.Api.Auth;

public sealed record CreateKeyRequest(string? Name);

/// <summary>A user's API keys: create (the secret is shown once), list, revoke.</summary>
public static class KeyEndpoints
{
    public static void MapKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/keys").RequireAuthorization().WithTags("Keys");
        group.MapPost("/", async (CreateKeyRequest request, HttpContext http, ApiKeys keys, CancellationToken ct) =>
        {
            var name = request.Name?.Trim() ?? "";
            if (name.Length is 0 or > 100 || name.Any(char.IsControl))
            {
                return Problems.BadRequest("name is required: 1 to 100 characters, without control characters.");
            }

            var (info, secret) = await keys.CreateAsync(http.User.UserId(), name, ct);
            return Results.Created($"/api/keys/{info.Id}", new { info.Id, info.Name, info.Prefix, info.CreatedAt, key = secret });
        }).RefusesIdempotencyKey(
            "POST /api/keys does not take Idempotency-Key: the new key's secret is shown once and never stored, so its answer cannot be replayed. " +
            "Send the request without the header; if an answer was lost, list your keys (GET /api/keys) and revoke the one you did not receive.");
        group.MapGet("/", async (HttpContext http, ApiKeys keys, CancellationToken ct) => Results.Ok(new { items = await keys.ListAsync(http.User.UserId(), ct) }));
        group.MapDelete("/{id:guid}", async (Guid id, HttpContext http, ApiKeys keys, CancellationToken ct) =>
            await keys.RevokeAsync(id, http.User.UserId(), ct) ? Results.NoContent() : Problems.NotFound("API key"));
    }
}
