-- The actor runtime's tables. Everything a grain turn changes is written in one transaction.
CREATE SCHEMA IF NOT EXISTS runtime;

-- Grain state with an optimistic-concurrency version and the grain's event sequence.
CREATE TABLE runtime.grains (
    grain_type text        NOT NULL,
    grain_key  text        NOT NULL,
    state      jsonb,
    version    bigint      NOT NULL DEFAULT 0,
    event_seq  bigint      NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grain_type, grain_key)
);

-- Durable mailboxes: one row per pending call.
CREATE TABLE runtime.messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grain_type text        NOT NULL,
    grain_key  text        NOT NULL,
    method     text        NOT NULL,
    args       jsonb       NOT NULL,
    request_id uuid,
    expires_at timestamptz,
    due_at     timestamptz NOT NULL DEFAULT now(),
    attempts   int         NOT NULL DEFAULT 0,
    last_error text,
    sender     text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_due_idx ON runtime.messages (due_at, id);
CREATE INDEX messages_grain_idx ON runtime.messages (grain_type, grain_key, id);

-- One-way messages whose turn kept failing; kept for inspection.
CREATE TABLE runtime.dead_messages (
    id         bigint      PRIMARY KEY,
    grain_type text        NOT NULL,
    grain_key  text        NOT NULL,
    method     text        NOT NULL,
    args       jsonb       NOT NULL,
    attempts   int         NOT NULL,
    last_error text,
    created_at timestamptz NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now()
);

-- Replies to request/response calls; callers are woken by NOTIFY and read these if the notification was too large or missed.
CREATE TABLE runtime.replies (
    request_id uuid        PRIMARY KEY,
    result     jsonb,
    error      text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX replies_created_idx ON runtime.replies (created_at);

-- The event log (outbox): per-grain sequence numbers, written in the turn's transaction.
CREATE TABLE runtime.events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grain_type text        NOT NULL,
    grain_key  text        NOT NULL,
    seq        bigint      NOT NULL,
    kind       text        NOT NULL,
    payload    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (grain_type, grain_key, seq)
);

-- Durable timers; a due reminder becomes a message to its grain.
CREATE TABLE runtime.reminders (
    grain_type text        NOT NULL,
    grain_key  text        NOT NULL,
    name       text        NOT NULL,
    due_at     timestamptz NOT NULL,
    period_ms  bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grain_type, grain_key, name)
);
CREATE INDEX reminders_due_idx ON runtime.reminders (due_at);

-- The stateless workers' durable queue.
CREATE TABLE runtime.work_items (
    id               uuid        PRIMARY KEY,
    kind             text        NOT NULL,
    payload          jsonb       NOT NULL,
    owner_type       text        NOT NULL,
    owner_key        text        NOT NULL,
    tag              text,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts         int         NOT NULL DEFAULT 0,
    max_attempts     int         NOT NULL DEFAULT 3,
    due_at           timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    lease_expires_at timestamptz,
    cancel_requested boolean     NOT NULL DEFAULT false,
    result           jsonb,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX work_items_pending_idx ON runtime.work_items (kind, due_at) WHERE status = 'pending';
CREATE INDEX work_items_running_idx ON runtime.work_items (lease_expires_at) WHERE status = 'running';
CREATE INDEX work_items_owner_idx ON runtime.work_items (owner_type, owner_key);

-- One row per attempt at a work item, with its outcome.
CREATE TABLE runtime.work_attempts (
    item_id     uuid        NOT NULL REFERENCES runtime.work_items (id) ON DELETE CASCADE,
    attempt     int         NOT NULL,
    silo        text        NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    outcome     text,
    error       text,
    PRIMARY KEY (item_id, attempt)
);

-- Silo membership with heartbeats.
CREATE TABLE runtime.silos (
    id           text        PRIMARY KEY,
    name         text        NOT NULL,
    host         text        NOT NULL,
    pid          int         NOT NULL,
    status       text        NOT NULL CHECK (status IN ('active', 'stopping', 'stopped', 'dead')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz
);
