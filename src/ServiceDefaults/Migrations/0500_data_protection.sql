-- The ASP.NET Core Data Protection key ring, shared by every host (see ServiceDefaults/DataProtection).
-- One row per XML element the key manager stores: keys ("key-<guid>") and revocations.
-- Rows are never updated or deleted: a deleted key makes every secret protected with it unreadable.
-- Unless DataProtection:Certificate:Path is configured, the key material in xml is NOT encrypted.

CREATE TABLE data_protection_keys (
    friendly_name text        PRIMARY KEY,
    xml           text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
