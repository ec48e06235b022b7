-- Issue 13: the live transcript. While a project is transcribed, each part the transcriber finished (in time order)
-- is kept here until the whole transcript is written, which replaces them: GET /api/projects/{id}/transcript answers
-- with them (partial: true), and a resumed attempt reuses them instead of transcribing that audio again.
CREATE TABLE transcript_parts (
    project_id uuid             NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    idx        int              NOT NULL,
    user_id    text             NOT NULL,
    plan       text             NOT NULL,
    parts      int              NOT NULL,
    start_s    double precision NOT NULL,
    end_s      double precision NOT NULL,
    text       text             NOT NULL,
    language   text,
    segments   jsonb            NOT NULL,
    created_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, idx)
);
