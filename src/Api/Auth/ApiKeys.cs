using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace MediaActors.Api.Auth;

/// <summary>An API key as listed (never its secret).</summary>
public sealed record ApiKeyInfo(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>
/// API keys: random secrets shown once, stored as SHA-256 hashes. A key found valid is remembered for
/// <c>Auth:KeyCacheSeconds</c> (default 10 s) so that requests do not each write to the database; its
/// <c>last_used_at</c> is written when it is looked up again. Revoking a key forgets it at once on the API host
/// that revoked it; other API hosts stop accepting it within that time.
/// </summary>
public sealed class ApiKeys(NpgsqlDataSource dataSource, IConfiguration configuration, TimeProvider time)
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Upper bound on remembered keys; past it the cache starts again empty (keys are looked up again).</summary>
    private const int MaxCachedKeys = 10_000;

    private readonly TimeSpan _cacheFor = TimeSpan.FromSeconds(Math.Clamp(configuration.GetValue("Auth:KeyCacheSeconds", 10.0), 0, 300));
    private readonly ConcurrentDictionary<string, CachedKey> _valid = new(StringComparer.Ordinal);

    private sealed record CachedKey(Guid Id, string UserId, DateTimeOffset Until);

    /// <summary>Creates a key for <paramref name="userId"/>; the returned secret is not stored anywhere.</summary>
    public async Task<(ApiKeyInfo Info, string Secret)> CreateAsync(string userId, string name, CancellationToken cancellationToken = default)
    {
        var secret = "ma_" + RandomNumberGenerator.GetString(Alphabet, 40);
        var id = Guid.CreateVersion7();
        var prefix = secret[..10];
        await using var command = dataSource.CreateCommand(
            "INSERT INTO api_keys (id, user_id, name, key_hash, prefix) VALUES ($1, $2, $3, $4, $5) RETURNING created_at");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Hash(secret) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = prefix });
        var created = (DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
        return (new ApiKeyInfo(id, name, prefix, new DateTimeOffset(created, TimeSpan.Zero), null, null), secret);
    }

    /// <summary>The user of an active key, or null.</summary>
    public async Task<string?> FindUserAsync(string secret, CancellationToken cancellationToken = default)
    {
        if (secret.Length is < 10 or > 200)
        {
            return null;
        }

        var hash = Hash(secret);
        var cacheKey = Convert.ToBase64String(hash);
        var now = time.GetUtcNow();
        if (_valid.TryGetValue(cacheKey, out var cached) && cached.Until > now)
        {
            return cached.UserId;
        }

        await using var command = dataSource.CreateCommand(
            "UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING id, user_id");
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = hash });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            _valid.TryRemove(cacheKey, out _);
            return null;
        }

        var found = new CachedKey(reader.GetGuid(0), reader.GetString(1), now + _cacheFor);
        if (_cacheFor > TimeSpan.Zero)
        {
            if (_valid.Count >= MaxCachedKeys)
            {
                _valid.Clear();
            }

            _valid[cacheKey] = found;
        }

        return found.UserId;
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1000");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        var keys = new List<ApiKeyInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new ApiKeyInfo(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return keys;
    }

    /// <summary>Revokes one of the user's keys; false when it is not theirs or does not exist.</summary>
    public async Task<bool> RevokeAsync(Guid id, string userId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        var revoked = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (revoked)
        {
            foreach (var (key, cached) in _valid)
            {
                if (cached.Id == id)
                {
                    _valid.TryRemove(key, out _);
                }
            }
        }

        return revoked;
    }

    public async Task<bool> AnyAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL)");
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
