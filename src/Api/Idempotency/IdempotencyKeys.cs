using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace MediaActors.Api.Idempotency;

/// <summary>Endpoint metadata: a create endpoint that takes an <c>Idempotency-Key</c> header.</summary>
public sealed class IdempotentCreate
{
    public static readonly IdempotentCreate Instance = new();

    private IdempotentCreate()
    {
    }
}

/// <summary>Endpoint metadata: a create endpoint that refuses an <c>Idempotency-Key</c> (400), for the reason given.</summary>
public sealed record IdempotencyKeyRefused(string Reason);

/// <summary>What the middleware tells a create endpoint about the key of its request.</summary>
/// <param name="ResourceId">The id of what the request creates, reserved for the key: the same on every retry with it.</param>
public sealed record IdempotentRequest(Guid ResourceId);

/// <summary>
/// Safe retries of the create endpoints (issue 13): the same <c>Idempotency-Key</c> from the same user within
/// <see cref="IdempotencyOptions.Lifetime"/> gets the first request's 2xx answer again instead of a second creation.
/// </summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";

    /// <summary>Set (to <c>true</c>) on an answer replayed from an earlier request with the same key.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    public const int MaxKeyLength = 255;

    /// <summary>Marks a create endpoint as taking <c>Idempotency-Key</c>; its handler takes the new thing's id from <see cref="CreateId"/>.</summary>
    public static TBuilder WithIdempotencyKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(IdempotentCreate.Instance);

    /// <summary>Marks a create endpoint whose answer must not be kept: a request to it with <c>Idempotency-Key</c> gets 400 saying why.</summary>
    public static TBuilder RefusesIdempotencyKey<TBuilder>(this TBuilder builder, string reason) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new IdempotencyKeyRefused(reason));

    /// <summary>
    /// The id for what this request creates: the one reserved for its <c>Idempotency-Key</c> (the same on a retry, so a
    /// create that already happened is found again rather than made twice), or a new version 7 UUID without a key.
    /// </summary>
    public static Guid CreateId(this HttpContext http) =>
        http.Features.Get<IdempotentRequest>()?.ResourceId ?? Guid.CreateVersion7();

    /// <summary>1 to 255 printable ASCII characters (a UUID is a good key).</summary>
    public static bool IsValidKey(string? key) =>
        key is { Length: >= 1 and <= MaxKeyLength } && key.All(c => c is >= ' ' and <= '~');

    /// <summary>
    /// SHA-256 of the method, the endpoint's route and the body's bytes: a retry sends the same, another request with the
    /// same key differs (another body, or the key used on another endpoint).
    /// </summary>
    public static byte[] Fingerprint(string method, string route, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // Lengths first, so that no route and body can pass for another route and body.
        hash.AppendData(Encoding.UTF8.GetBytes($"v1 {method.ToUpperInvariant()} {route.Length}:{route} {body.Length}:"));
        hash.AppendData(body);
        return hash.GetHashAndReset();
    }

    /// <summary>Runs the create endpoints marked with <see cref="WithIdempotencyKey"/> once per key (after authentication and the body guard).</summary>
    public static IApplicationBuilder UseIdempotencyKeys(this IApplicationBuilder app) => app.UseMiddleware<IdempotencyMiddleware>();

    /// <summary>Documents the optional <c>Idempotency-Key</c> header on the create endpoints that take it in the OpenAPI document.</summary>
    public static OpenApiOptions AddIdempotencyKeyHeader(this OpenApiOptions options) =>
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IdempotentCreate>().Any())
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = Header,
                    In = ParameterLocation.Header,
                    Required = false,
                    Description = "Optional: the same key and request from the same user within 24 h gets the first 2xx answer again " +
                        $"({ReplayedHeader}: true) instead of a second creation; another request with the key is 422. 1 to 255 printable ASCII characters.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = MaxKeyLength },
                });
            }

            return Task.CompletedTask;
        });

    public static IServiceCollection AddIdempotencyKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IdempotencyOptions>().Bind(configuration.GetSection("Idempotency"));
        services.AddSingleton<IdempotencyStore>();
        return services;
    }
}
