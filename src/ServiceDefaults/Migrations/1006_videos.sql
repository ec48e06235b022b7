-- Avatar videos (flow 5): the read model written by each VideoGrain with its events, and the catalog the requests
-- choose from (seeded here, edited by operators through the API).
CREATE TABLE videos (
    id                 uuid        PRIMARY KEY,
    user_id            text        NOT NULL,
    status             text        NOT NULL,
    kind               text        NOT NULL,
    title              text        NOT NULL,
    avatar             jsonb,
    voice              jsonb,
    request            jsonb       NOT NULL,
    execution_id       text,
    error              text,
    blob_container     text,
    blob_name          text,
    size_bytes         bigint,
    media              jsonb,
    late_callbacks     int         NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL,
    dispatched_at      timestamptz,
    ready_at           timestamptz,
    estimated_ready_at timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    version            bigint      NOT NULL,
    event_seq          bigint      NOT NULL DEFAULT 0
);
CREATE INDEX videos_user_idx ON videos (user_id, created_at DESC, id DESC);
CREATE INDEX videos_ready_idx ON videos (ready_at DESC) WHERE status = 'ready';

CREATE TABLE avatar_catalog (
    id          text        PRIMARY KEY,
    name        text        NOT NULL,
    gender      text        NOT NULL CHECK (gender IN ('female', 'male', 'neutral')),
    description text        NOT NULL DEFAULT '',
    active      boolean     NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE voice_catalog (
    id          text        PRIMARY KEY,
    name        text        NOT NULL,
    gender      text        NOT NULL CHECK (gender IN ('female', 'male', 'neutral')),
    language    text        NOT NULL DEFAULT 'en-US',
    description text        NOT NULL DEFAULT '',
    active      boolean     NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE topic_catalog (
    id          text        PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    active      boolean     NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO avatar_catalog (id, name, gender, description) VALUES
    ('anna', 'Anna', 'female', 'Business casual, studio background'),
    ('marcus', 'Marcus', 'male', 'Suit, office background'),
    ('sofia', 'Sofia', 'female', 'Friendly presenter, bright background'),
    ('kenji', 'Kenji', 'male', 'Casual, loft background'),
    ('alex', 'Alex', 'neutral', 'Animated presenter')
ON CONFLICT (id) DO NOTHING;

INSERT INTO voice_catalog (id, name, gender, language, description) VALUES
    ('en-us-female-warm', 'Warm (US)', 'female', 'en-US', 'Warm, medium pace'),
    ('en-us-male-calm', 'Calm (US)', 'male', 'en-US', 'Calm, low pitch'),
    ('en-gb-female-bright', 'Bright (UK)', 'female', 'en-GB', 'Bright, energetic'),
    ('en-gb-male-deep', 'Deep (UK)', 'male', 'en-GB', 'Deep, measured'),
    ('en-us-neutral', 'Neutral (US)', 'neutral', 'en-US', 'Even, clear')
ON CONFLICT (id) DO NOTHING;

INSERT INTO topic_catalog (id, name, description) VALUES
    ('product-launch', 'Product launch', 'Announce something new'),
    ('company-news', 'Company news', 'What happened and why it matters'),
    ('tutorial', 'Tutorial', 'Show how to do one thing'),
    ('event', 'Event promotion', 'Invite people to an event'),
    ('customer-story', 'Customer story', 'A customer''s result, told briefly')
ON CONFLICT (id) DO NOTHING;
