-- Per-user notifications of finished and failed work (projects, publish jobs, avatar videos), written with the event
-- that announces it (one per event: a re-sent event adds nothing). And the size of a project's own source video, for
-- the storage figure of GET /api/stats.
CREATE TABLE notifications (
    id           bigserial   PRIMARY KEY,
    user_id      text        NOT NULL,
    subject_kind text        NOT NULL,
    subject_id   uuid        NOT NULL,
    seq          bigint      NOT NULL,
    kind         text        NOT NULL,
    title        text        NOT NULL,
    message      text        NOT NULL,
    created_at   timestamptz NOT NULL,
    read_at      timestamptz,
    UNIQUE (subject_id, seq)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id DESC) WHERE read_at IS NULL;

ALTER TABLE projects ADD COLUMN IF NOT EXISTS size_bytes bigint;
