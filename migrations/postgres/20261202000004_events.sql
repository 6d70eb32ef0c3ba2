-- Webhooks, billing, the job queue, notifications and report exports
-- (PostgreSQL dialect; keep in step with migrations/sqlite).

-- Billing state, set by the Stripe webhook's worker.
ALTER TABLE users ADD COLUMN stripe_customer_id TEXT;
ALTER TABLE users ADD COLUMN subscription_status TEXT;
ALTER TABLE users ADD COLUMN subscription_id TEXT;
ALTER TABLE users ADD COLUMN current_period_end TIMESTAMPTZ;
CREATE UNIQUE INDEX users_stripe_customer_key ON users (stripe_customer_id);
CREATE INDEX users_github_repo_idx ON users (lower(github_repo));

-- Every delivery a provider made, stored once per (source, external id).
CREATE TABLE webhook_events (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT NOT NULL CHECK (source IN ('stripe', 'github')),
    external_id  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'ignored', 'failed')),
    attempts     BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT,
    received_at  TIMESTAMPTZ NOT NULL,
    processed_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX webhook_events_external_key ON webhook_events (source, external_id);
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at DESC, id DESC);

-- The background job queue. A worker claims a job by setting its lease (locked_until);
-- a job whose lease ran out (its worker died) is claimed again.
CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at       TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    locked_by    TEXT,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_ready_idx ON jobs (status, run_at, id);
CREATE INDEX jobs_updated_idx ON jobs (updated_at DESC, id DESC);

-- Per-user events, persisted so that SSE clients can catch up (Last-Event-ID).
CREATE TABLE notifications (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    data       TEXT NOT NULL,
    read_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);

-- Report exports: the file lives in the data directory under `file_name`.
CREATE TABLE reports (
    id           TEXT    PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('my_posts', 'site_stats')),
    format       TEXT NOT NULL CHECK (format IN ('csv', 'json')),
    status       TEXT NOT NULL CHECK (status IN ('running', 'complete', 'error')),
    row_count    BIGINT NOT NULL DEFAULT 0,
    byte_size    BIGINT NOT NULL DEFAULT 0,
    error        TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ
);
CREATE INDEX reports_user_idx ON reports (user_id, created_at DESC);
