-- The move onto Orleans: grains write the read model and the event log after their state, so rows carry the state's
-- version (an older write never replaces a newer one) and events are keyed by (project, seq) (a re-sent one is ignored).
ALTER TABLE projects ADD COLUMN version bigint NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN event_seq bigint NOT NULL DEFAULT 0;

CREATE TABLE project_events (
    project_id uuid        NOT NULL,
    seq        bigint      NOT NULL,
    kind       text        NOT NULL,
    payload    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, seq)
);
CREATE INDEX project_events_created_idx ON project_events (created_at);

-- The home-made runtime's tables (mailboxes, work queue, membership, reminders, grain state) are gone with it.
DROP SCHEMA IF EXISTS runtime CASCADE;
