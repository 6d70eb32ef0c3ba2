-- Accounts and API tokens (SQLite dialect; keep in step with migrations/postgres).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    plan          TEXT    NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro')),
    avatar_url    TEXT,
    github_repo   TEXT,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
-- Emails are unique whatever their case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    -- SHA-256 of the secret, hex; the secret itself is never stored.
    token_hash   TEXT    NOT NULL,
    -- space-separated scopes: 'read', 'write'
    scopes       TEXT    NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    created_at   TEXT    NOT NULL,
    revoked_at   TEXT
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);
