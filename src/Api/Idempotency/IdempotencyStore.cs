using Microsoft.Extensions.Options;
using Npgsql;

namespace MediaActors.Api.Idempotency;

/// <summary>A 2xx answer kept for replay.</summary>
public sealed record StoredResponse(int Status, string? ContentType, string? Location, byte[] Body);

/// <summary>
/// A remembered key as another request with it finds it: the first request's fingerprint, the id reserved for what it
/// creates, whether a request holds a live claim on it (and for how much longer), and its answer once there is one.
/// </summary>
public sealed record IdempotencyRecord(byte[] Fingerprint, Guid ResourceId, bool Running, TimeSpan LeaseLeft, StoredResponse? Response);

/// <summary>
/// The <c>idempotency_keys</c> table. Every time is the database's (<c>now()</c>), so API hosts with skewed clocks agree on
/// leases and expiry. A claim is held by a token: only its holder renews or releases it, and a claim is taken over only
/// once its lease ran out, by one request (compare and set).
/// </summary>
public sealed class IdempotencyStore(NpgsqlDataSource db, IOptions<IdempotencyOptions> options)
{
    private readonly IdempotencyOptions _options = options.Value;

    private long LeaseMs => (long)_options.ClaimLease.TotalMilliseconds;

    /// <summary>
    /// Claims a key no live row has (none, or one past its lifetime, which is replaced) for a new request that will create
    /// <paramref name="resourceId"/>; false when a live row exists.
    /// </summary>
    public async Task<bool> TryClaimNewAsync(string userId, string key, byte[] fingerprint, Guid resourceId, Guid token, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            INSERT INTO idempotency_keys (user_id, key, fingerprint, resource_id, claim_token, lease_until, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 millisecond', now(), now() + $7 * interval '1 millisecond')
            ON CONFLICT (user_id, key) DO UPDATE SET
                fingerprint = excluded.fingerprint, resource_id = excluded.resource_id, claim_token = excluded.claim_token,
                lease_until = excluded.lease_until, response_status = NULL, response_type = NULL, response_location = NULL,
                response_body = NULL, created_at = excluded.created_at, completed_at = NULL, expires_at = excluded.expires_at
            WHERE idempotency_keys.expires_at <= now()
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = fingerprint });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = resourceId });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = token });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LeaseMs });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)_options.Lifetime.TotalMilliseconds });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>The live row of a key, or null when there is none (never used, or past its lifetime).</summary>
    public async Task<IdempotencyRecord?> FindAsync(string userId, string key, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            SELECT fingerprint, resource_id, claim_token IS NOT NULL AND lease_until > now(),
                   greatest(0, coalesce(extract(epoch FROM lease_until - now()), 0))::float8,
                   response_status, response_type, response_location, response_body
            FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND expires_at > now()
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var response = reader.IsDBNull(4) ? null : new StoredResponse(reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetFieldValue<byte[]>(7));
        return new IdempotencyRecord(reader.GetFieldValue<byte[]>(0), reader.GetGuid(1), reader.GetBoolean(2), TimeSpan.FromSeconds(reader.GetDouble(3)), response);
    }

    /// <summary>
    /// Takes over a key that has no answer and no live claim (its request failed, or its API host died and the lease ran
    /// out) for a request with the same fingerprint; returns the id reserved for what it creates, or null when another
    /// request got there first or the row changed.
    /// </summary>
    public async Task<Guid?> TryTakeOverAsync(string userId, string key, byte[] fingerprint, Guid token, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            UPDATE idempotency_keys SET claim_token = $4, lease_until = now() + $5 * interval '1 millisecond'
            WHERE user_id = $1 AND key = $2 AND fingerprint = $3 AND expires_at > now() AND response_status IS NULL
              AND (claim_token IS NULL OR lease_until <= now())
            RETURNING resource_id
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = fingerprint });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = token });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LeaseMs });
        return await command.ExecuteScalarAsync(cancellationToken) is Guid id ? id : null;
    }

    /// <summary>A heartbeat of the claim's holder: its lease starts again; false when the claim is no longer its own.</summary>
    public async Task<bool> RenewAsync(string userId, string key, Guid token, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            UPDATE idempotency_keys SET lease_until = now() + $4 * interval '1 millisecond'
            WHERE user_id = $1 AND key = $2 AND claim_token = $3 AND response_status IS NULL
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = token });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LeaseMs });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Keeps the answer of the request that created <paramref name="resourceId"/>, unless an answer is kept already (a
    /// request that took the key over after a lapse of heartbeats answered first: it created the same thing).
    /// </summary>
    public async Task<bool> CompleteAsync(string userId, string key, Guid resourceId, StoredResponse response, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            """
            UPDATE idempotency_keys SET response_status = $4, response_type = $5, response_location = $6, response_body = $7,
                completed_at = now(), claim_token = NULL, lease_until = NULL
            WHERE user_id = $1 AND key = $2 AND resource_id = $3 AND response_status IS NULL
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = resourceId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = response.Status });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)response.ContentType ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)response.Location ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = response.Body });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Gives up the claim without an answer (the request failed): the row and its reserved id stay, so the next request
    /// with the key runs at once and creates with that id, whatever this one may have created before it failed.
    /// </summary>
    public async Task ReleaseAsync(string userId, string key, Guid token, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "UPDATE idempotency_keys SET claim_token = NULL, lease_until = NULL WHERE user_id = $1 AND key = $2 AND claim_token = $3 AND response_status IS NULL");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = token });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
