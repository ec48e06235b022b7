-- Orleans (10.x) ADO.NET providers on PostgreSQL: clustering, grain persistence and reminders.
-- Orleans issues no SQL of its own: every provider loads its statements from OrleansQuery (by key) and
-- binds named parameters (@DeploymentId, @Version, ...); results are read by column name, so every
-- SELECT aliases its columns to the exact names Orleans reads ("Version", "StartTime", ...).
-- Statements run outside any explicit transaction, so each one below is a single (atomic) statement.
-- DateTime parameters arrive as UTC (DbType.DateTime, which Npgsql sends as timestamptz).

-- The provider looks this table up by this exact (unquoted) name: SELECT QueryKey, QueryText FROM OrleansQuery.
CREATE TABLE OrleansQuery (
    QueryKey  text PRIMARY KEY,
    QueryText text NOT NULL
);

---------------------------------------------------------------------------------------------------------------
-- Clustering (membership). ClusterId arrives as @DeploymentId.
---------------------------------------------------------------------------------------------------------------

-- One row per cluster. "version" is the membership table's etag: every insert/update of a silo row must
-- present the version it read and bumps it by one in the same statement (optimistic concurrency).
CREATE TABLE orleans_membership_version (
    cluster_id text        PRIMARY KEY,
    version    integer     NOT NULL DEFAULT 0 CHECK (version >= 0), -- Orleans only accepts etags that parse as a non-negative int
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per silo incarnation (address, port, generation). Orleans reads Port/Generation/Status/ProxyPort with
-- GetInt32 and SiloName/HostName as non-null strings, hence the types and NOT NULLs.
CREATE TABLE orleans_membership (
    cluster_id      text        NOT NULL REFERENCES orleans_membership_version (cluster_id) ON DELETE CASCADE,
    address         text        NOT NULL,
    port            integer     NOT NULL,
    generation      integer     NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    status          integer     NOT NULL, -- SiloStatus: 1 Created, 2 Joining, 3 Active, 4 ShuttingDown, 5 Stopping, 6 Dead
    proxy_port      integer     NOT NULL, -- gateway port, 0 when the silo is not a gateway
    suspect_times   text,                 -- death votes: "<silo address>,<yyyy-MM-dd HH:mm:ss.fff GMT>|..."
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (cluster_id, address, port, generation)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Creates the cluster's version row if missing; returns one bool column (true when this call created it).
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO orleans_membership_version (cluster_id) VALUES (@DeploymentId)
    ON CONFLICT (cluster_id) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM created)
$q$),

-- Adds a silo row if the caller's @Version is still current, bumping the version; one bool column.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
    SET version = version + 1, updated_at = now()
    WHERE cluster_id = @DeploymentId AND version = @Version
      AND NOT EXISTS (SELECT 1 FROM orleans_membership
                      WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING cluster_id
), inserted AS (
    INSERT INTO orleans_membership (cluster_id, address, port, generation, silo_name, host_name, status, proxy_port,
                                    start_time, i_am_alive_time)
    SELECT cluster_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM bumped
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted)
$q$),

-- Changes a silo's status/votes/heartbeat if @Version is still current, bumping the version; one bool column.
('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
    SET version = version + 1, updated_at = now()
    WHERE cluster_id = @DeploymentId AND version = @Version
      AND EXISTS (SELECT 1 FROM orleans_membership
                  WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING cluster_id
), updated AS (
    UPDATE orleans_membership m
    SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
    FROM bumped b
    WHERE m.cluster_id = b.cluster_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM updated)
$q$),

-- Heartbeat: not versioned (does not bump the etag), result ignored.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleans_membership
SET i_am_alive_time = @IAmAliveTime
WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

-- Orleans takes the table version from the first row and treats a row with NULL StartTime as "no silo",
-- so both reads start from the version row and LEFT JOIN the silos (one row even when there are none).
('MembershipReadRowKey', $q$
SELECT v.version AS "Version",
       m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m
       ON m.cluster_id = v.cluster_id AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.cluster_id = @DeploymentId
$q$),

('MembershipReadAllKey', $q$
SELECT v.version AS "Version",
       m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
       m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
FROM orleans_membership_version v
LEFT JOIN orleans_membership m ON m.cluster_id = v.cluster_id
WHERE v.cluster_id = @DeploymentId
$q$),

-- Gateways for clients: active silos (@Status = 3) that listen for clients.
('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
FROM orleans_membership
WHERE cluster_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),

-- Drops a whole cluster (its silo rows go with the version row: ON DELETE CASCADE).
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleans_membership_version WHERE cluster_id = @DeploymentId
$q$),

-- Fallback bulk cleanup (required key; Orleans 10.4 uses it only when CleanupDefunctSiloEntryKey is absent):
-- dead silos whose last sign of life is older than @IAmAliveTime.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleans_membership
WHERE cluster_id = @DeploymentId AND status = 6 AND greatest(start_time, i_am_alive_time) < @IAmAliveTime
$q$),

-- Per-entry cleanup (optional key, preferred by Orleans 10.4): Orleans picks expired dead entries from its own read
-- and deletes each only if the row is still exactly what it read (no newer heartbeat, vote or status).
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM orleans_membership
WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
  AND status = 6
  AND start_time = @StartTime AND i_am_alive_time = @IAmAliveTime
  AND coalesce(suspect_times, '') = coalesce(@SuspectTimes, '')
$q$);

---------------------------------------------------------------------------------------------------------------
-- Grain persistence (AddAdoNetGrainStorage).
---------------------------------------------------------------------------------------------------------------

-- A state is identified by (service, state name, key). Orleans passes the key as N0/N1 (Guid halves or 0/long)
-- plus an optional string (string key or key extension) and the state name as "GrainTypeString"; the two
-- hashes only narrow the index search. "version" is the etag: NULL payload = cleared state.
CREATE TABLE orleans_storage (
    grain_id_hash      integer     NOT NULL,
    grain_type_hash    integer     NOT NULL,
    service_id         text        NOT NULL,
    grain_type         text        NOT NULL,
    grain_id_n0        bigint      NOT NULL,
    grain_id_n1        bigint      NOT NULL,
    grain_id_extension text,
    payload_binary     bytea,
    version            integer     NOT NULL,
    modified_on        timestamptz NOT NULL DEFAULT now(),
    -- NULLS NOT DISTINCT (PostgreSQL 15+): a Guid/long key without extension is still one row.
    CONSTRAINT orleans_storage_key UNIQUE NULLS NOT DISTINCT
        (grain_id_hash, grain_type_hash, service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Zero or one row: "PayloadBinary" (NULL after a clear) and "Version" (the etag).
('ReadFromStorageKey', $q$
SELECT payload_binary AS "PayloadBinary", version AS "Version"
FROM orleans_storage
WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
  AND service_id = @ServiceId AND grain_type = @GrainTypeString
  AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
  AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

-- Exactly one row, "NewGrainStateVersion": the new etag, or NULL on a conflict, which Orleans turns into an
-- InconsistentStateException. No etag (@GrainStateVersion NULL) = first write: insert version 1 unless a row exists;
-- otherwise update only when the stored version still equals the caller's etag.
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE orleans_storage
    SET payload_binary = @PayloadBinary, version = version + 1, modified_on = now()
    WHERE @GrainStateVersion IS NOT NULL AND version = @GrainStateVersion
      AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId AND grain_type = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING version
), inserted AS (
    INSERT INTO orleans_storage (grain_id_hash, grain_type_hash, service_id, grain_type, grain_id_n0, grain_id_n1,
                                 grain_id_extension, payload_binary, version)
    SELECT @GrainIdHash, @GrainTypeHash, @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
           @GrainIdExtensionString, @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version
)
SELECT (SELECT version FROM updated UNION ALL SELECT version FROM inserted LIMIT 1) AS "NewGrainStateVersion"
$q$),

-- Clear keeps the row (payload NULL) and bumps the etag; one row with the new etag, NULL on a conflict.
('ClearStorageKey', $q$
WITH cleared AS (
    UPDATE orleans_storage
    SET payload_binary = NULL, version = version + 1, modified_on = now()
    WHERE version = @GrainStateVersion
      AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId AND grain_type = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING version
)
SELECT (SELECT version FROM cleared) AS "NewGrainStateVersion"
$q$),

-- Used instead of ClearStorageKey when DeleteStateOnClear = true: removes the row and returns the deleted
-- version + 1 (anything but the caller's etag means success), NULL on a conflict.
('DeleteStorageKey', $q$
WITH deleted AS (
    DELETE FROM orleans_storage
    WHERE version = @GrainStateVersion
      AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId AND grain_type = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING version
)
SELECT (SELECT version + 1 FROM deleted) AS "NewGrainStateVersion"
$q$);

---------------------------------------------------------------------------------------------------------------
-- Reminders (UseAdoNetReminderService).
---------------------------------------------------------------------------------------------------------------

-- grain_hash is the grain's uniform hash (a uint on the ring) stored as a signed int; the reminder service reads the
-- ring range it owns by hash. period is in milliseconds (bigint: Orleans sends int or long, reads Int64).
CREATE TABLE orleans_reminders (
    service_id    text        NOT NULL,
    grain_id      text        NOT NULL,
    reminder_name text        NOT NULL,
    start_time    timestamptz NOT NULL,
    period        bigint      NOT NULL,
    grain_hash    integer     NOT NULL,
    version       integer     NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

CREATE INDEX orleans_reminders_by_hash ON orleans_reminders (service_id, grain_hash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
-- Insert or replace; returns the new etag in "Version" (0 for a new reminder, +1 on each upsert).
('UpsertReminderRowKey', $q$
INSERT INTO orleans_reminders (service_id, grain_id, reminder_name, start_time, period, grain_hash, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
SET start_time = excluded.start_time, period = excluded.period, grain_hash = excluded.grain_hash,
    version = orleans_reminders.version + 1
RETURNING version AS "Version"
$q$),

('ReadReminderRowsKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period AS "Period",
       version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND grain_id = @GrainId
$q$),

('ReadReminderRowKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period AS "Period",
       version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
$q$),

-- The ring range (@BeginHash, @EndHash]. Orleans compares the bounds as signed ints, like the column:
-- ReadRangeRows1Key when begin < end (a plain interval) ...
('ReadRangeRows1Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period AS "Period",
       version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
$q$),

-- ... ReadRangeRows2Key when begin >= end: the range wraps around the ring (begin = end is the whole ring).
('ReadRangeRows2Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime", period AS "Period",
       version AS "Version"
FROM orleans_reminders
WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
$q$),

-- Removes one reminder if its etag still matches; one bool column.
('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM orleans_reminders
    WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName AND version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM deleted)
$q$),

('DeleteReminderRowsKey', $q$
DELETE FROM orleans_reminders WHERE service_id = @ServiceId
$q$);
