-- Hardening (SQLite dialect; keep in step with migrations/postgres).

-- Stripe does not deliver events in order: the `created` time of the newest subscription
-- event applied, so an older one arriving late cannot override it.
ALTER TABLE users ADD COLUMN subscription_event_at TEXT;

-- A GitHub repository belongs to one account at most. Earlier duplicates keep the oldest.
UPDATE users SET github_repo = NULL
 WHERE github_repo IS NOT NULL
   AND EXISTS (SELECT 1 FROM users o WHERE lower(o.github_repo) = lower(users.github_repo) AND o.id < users.id);
DROP INDEX users_github_repo_idx;
CREATE UNIQUE INDEX users_github_repo_key ON users (lower(github_repo)) WHERE github_repo IS NOT NULL;

-- One draft per GitHub release (repository id + release id), whatever the deliveries and retries.
CREATE TABLE release_drafts (
    repo_id    INTEGER NOT NULL,
    release_id INTEGER NOT NULL,
    user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    post_id    INTEGER REFERENCES posts (id) ON DELETE SET NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (repo_id, release_id)
);

-- Notifications that must not pile up (one unread `post.liked` per post and liker) carry a key.
ALTER TABLE notifications ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX notifications_unread_dedupe_key
    ON notifications (user_id, dedupe_key) WHERE read_at IS NULL AND dedupe_key IS NOT NULL;

-- Idempotency records keep no secret in clear: the key is stored only as a hash, the request
-- only as a keyed fingerprint, and the response sealed under a key derived from the
-- Idempotency-Key (which only the client holds). Records live 24 hours; old ones are dropped.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status       INTEGER,
    sealed       BLOB,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- A password change ends every other session: sessions remember the epoch they signed in
-- under, and one from an older epoch no longer counts.
ALTER TABLE users ADD COLUMN auth_epoch INTEGER NOT NULL DEFAULT 0;
