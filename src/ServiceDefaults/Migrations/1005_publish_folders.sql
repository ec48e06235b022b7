-- Folder watches (scheduled scans that queue publish jobs), written by each FolderWatchGrain.
CREATE TABLE publish_folders (
    id             uuid        PRIMARY KEY,
    user_id        text        NOT NULL,
    drive_folder   text,
    blob_prefix    text,
    interval_s     int         NOT NULL,
    defaults       jsonb       NOT NULL,
    last_scan_at   timestamptz,
    next_scan_at   timestamptz,
    last_error     text,
    files_seen     int         NOT NULL DEFAULT 0,
    jobs_queued    int         NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    version        bigint      NOT NULL
);
CREATE INDEX publish_folders_user_idx ON publish_folders (user_id, created_at DESC, id DESC);
