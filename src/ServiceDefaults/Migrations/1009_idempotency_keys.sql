-- Issue 13: Idempotency-Key on the create endpoints (src/Api/Idempotency). One row per user and key while the key is
-- remembered (Idempotency:Lifetime, 24 h): the fingerprint of the request that first used it, the id reserved for what
-- it creates (a retry creates with the same id, so an API host that died between the create and its answer leaves
-- nothing twice), the claim of the request running it (token and lease, extended by heartbeats; a retry takes over a
-- claim whose lease ran out), and once a 2xx answer was given, that answer to replay.
-- Expired rows count as absent (a new request replaces one) and are deleted by the silos (IdempotencyKeyExpiryService).
CREATE TABLE idempotency_keys (
    user_id           text        NOT NULL,
    key               text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint       bytea       NOT NULL,
    resource_id       uuid        NOT NULL,
    claim_token       uuid,
    lease_until       timestamptz,
    response_status   int         CHECK (response_status BETWEEN 200 AND 299),
    response_type     text,
    response_location text,
    response_body     bytea,
    created_at        timestamptz NOT NULL,
    completed_at      timestamptz,
    expires_at        timestamptz NOT NULL,
    PRIMARY KEY (user_id, key),
    CHECK ((response_status IS NULL) = (response_body IS NULL))
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
