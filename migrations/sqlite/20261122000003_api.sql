-- REST API support (SQLite dialect; keep in step with migrations/postgres):
-- uploaded files and idempotency records.
CREATE TABLE uploads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- content-addressed: <sha256>.<ext>; the same bytes uploaded twice share one file
    stored_name   TEXT    NOT NULL,
    original_name TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX uploads_owner_idx ON uploads (owner_id, id);
CREATE INDEX uploads_stored_name_idx ON uploads (stored_name);

-- One row per (caller, Idempotency-Key). `status` is NULL while the first request runs.
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         BLOB,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

CREATE INDEX users_created_idx ON users (created_at, id);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id);
