-- The publish queue's read model (flow 4), written by each PublishJobGrain with its events. The grains' own state
-- (jobs, duplicate checks, quota) lives in the Orleans storage table.
CREATE TABLE publish_jobs (
    id                      uuid        PRIMARY KEY,
    user_id                 text        NOT NULL,
    status                  text        NOT NULL,
    progress                int         NOT NULL DEFAULT 0,
    source                  jsonb       NOT NULL,
    metadata                jsonb       NOT NULL,
    md5                     text        NOT NULL,
    video_id                text,
    already_on_youtube      boolean     NOT NULL DEFAULT false,
    error                   text,
    attempts                int         NOT NULL DEFAULT 0,
    retry_at                timestamptz,
    waiting_for_quota_until timestamptz,
    folder_id               text,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    completed_at            timestamptz,
    version                 bigint      NOT NULL,
    event_seq               bigint      NOT NULL DEFAULT 0
);
CREATE INDEX publish_jobs_user_idx ON publish_jobs (user_id, created_at DESC, id DESC);
CREATE INDEX publish_jobs_user_status_idx ON publish_jobs (user_id, status, created_at DESC, id DESC);
CREATE INDEX publish_jobs_history_idx ON publish_jobs (user_id, completed_at DESC, id DESC) WHERE status = 'completed';
