-- Read models of the video-project flows, written in the same transaction as the grain turns that change them.

CREATE TABLE api_keys (
    id           uuid        PRIMARY KEY,
    user_id      text        NOT NULL,
    name         text        NOT NULL,
    key_hash     bytea       NOT NULL UNIQUE,
    prefix       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE uploads (
    id            uuid        PRIMARY KEY,
    user_id       text        NOT NULL,
    file_name     text        NOT NULL,
    content_type  text        NOT NULL,
    declared_size bigint      NOT NULL,
    container     text        NOT NULL,
    blob_name     text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('pending', 'completed')),
    size_bytes    bigint,
    md5           text,
    media         jsonb,
    project_id    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    completed_at  timestamptz
);
CREATE INDEX uploads_user_idx ON uploads (user_id, created_at DESC);

CREATE TABLE projects (
    id             uuid        PRIMARY KEY,
    user_id        text        NOT NULL,
    title          text        NOT NULL,
    status         text        NOT NULL,
    step           text,
    progress       int         NOT NULL DEFAULT 0,
    error          text,
    source         jsonb       NOT NULL,
    media          jsonb,
    video_blob     text,
    thumbnail_blob text,
    steps          jsonb       NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX projects_user_idx ON projects (user_id, created_at DESC, id DESC);
CREATE INDEX projects_user_status_idx ON projects (user_id, status, created_at DESC, id DESC);

CREATE TABLE transcripts (
    project_id uuid        PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    user_id    text        NOT NULL,
    language   text        NOT NULL,
    text       text        NOT NULL,
    provider   text        NOT NULL,
    model      text        NOT NULL,
    segments   jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE analyses (
    project_id      uuid        PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    user_id         text        NOT NULL,
    summary         text        NOT NULL,
    topics          jsonb       NOT NULL,
    sentiment_label text        NOT NULL,
    sentiment_score double precision NOT NULL,
    category        text        NOT NULL,
    provider        text        NOT NULL,
    model           text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contents (
    project_id    uuid        PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    user_id       text        NOT NULL,
    title         text        NOT NULL,
    blog_markdown text        NOT NULL,
    x_thread      jsonb       NOT NULL,
    linkedin_post text        NOT NULL,
    provider      text        NOT NULL,
    model         text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Transcript passages for search: full-text (tsvector) and semantic (embedding, L2-normalised).
CREATE TABLE transcript_chunks (
    project_id uuid             NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    idx        int              NOT NULL,
    user_id    text             NOT NULL,
    start_s    double precision NOT NULL,
    end_s      double precision NOT NULL,
    text       text             NOT NULL,
    tsv        tsvector         GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    embedding  real[]           NOT NULL,
    provider   text             NOT NULL,
    model      text             NOT NULL,
    PRIMARY KEY (project_id, idx)
);
CREATE INDEX transcript_chunks_tsv_idx ON transcript_chunks USING gin (tsv);
CREATE INDEX transcript_chunks_user_idx ON transcript_chunks (user_id);
