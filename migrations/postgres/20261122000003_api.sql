-- REST API support (PostgreSQL dialect; keep in step with migrations/sqlite):
-- uploaded files and idempotency records.
CREATE TABLE uploads (
    id            BIGSERIAL PRIMARY KEY,
    owner_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- content-addressed: <sha256>.<ext>; the same bytes uploaded twice share one file
    stored_name   TEXT        NOT NULL,
    original_name TEXT        NOT NULL,
    content_type  TEXT        NOT NULL,
    size          BIGINT      NOT NULL,
    sha256        TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX uploads_owner_idx ON uploads (owner_id, id);
CREATE INDEX uploads_stored_name_idx ON uploads (stored_name);

-- One row per (caller, Idempotency-Key). `status` is NULL while the first request runs.
CREATE TABLE idempotency_keys (
    scope        TEXT        NOT NULL,
    key          TEXT        NOT NULL,
    fingerprint  TEXT        NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         BYTEA,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

CREATE INDEX users_created_idx ON users (created_at, id);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id);
