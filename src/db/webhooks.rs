//! Webhook deliveries, stored once per (source, external id).

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};
use crate::models::{DeliveryStatus, WebhookEvent};

const COLUMNS: &str = "id, source, external_id, kind, status, attempts, last_error, received_at, processed_at";

/// Stores a delivery; `None` when this (source, external id) was stored before (a redelivery).
pub async fn insert_once(
    conn: Conn<'_>,
    source: &str,
    external_id: &str,
    kind: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    const SQL: &str = "INSERT INTO webhook_events (source, external_id, kind, payload, status, received_at) \
                       VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (source, external_id) DO NOTHING RETURNING id";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(source)
        .bind(external_id)
        .bind(kind)
        .bind(payload)
        .bind(now)
        .fetch_optional(c)
        .await)
}

/// A stored delivery as the worker processes it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredDelivery {
    pub source: String,
    pub kind: String,
    pub payload: String,
    pub received_at: DateTime<Utc>,
}

/// The stored payload and event (for the worker).
pub async fn payload(conn: Conn<'_>, id: i64) -> sqlx::Result<Option<StoredDelivery>> {
    const SQL: &str = "SELECT source, kind, payload, received_at FROM webhook_events WHERE id = $1";
    on_conn!(conn, |c| sqlx::query_as::<_, StoredDelivery>(SQL).bind(id).fetch_optional(c).await)
}

pub async fn find(conn: Conn<'_>, id: i64) -> sqlx::Result<Option<WebhookEvent>> {
    let sql = format!("SELECT {COLUMNS} FROM webhook_events WHERE id = $1");
    on_conn!(conn, |c| sqlx::query_as::<_, WebhookEvent>(&sql).bind(id).fetch_optional(c).await)
}

/// Records the outcome of one processing attempt.
pub async fn set_outcome(
    conn: Conn<'_>,
    id: i64,
    status: DeliveryStatus,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE webhook_events SET status = $2, last_error = $3, attempts = attempts + 1, \
                       processed_at = CASE WHEN $2 IN ('processed', 'ignored') THEN $4 ELSE processed_at END \
                       WHERE id = $1";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(id)
        .bind(status.as_str())
        .bind(error)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Marks a failed delivery pending again (an administrator's retry).
pub async fn reset(conn: Conn<'_>, id: i64) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE webhook_events SET status = 'pending' WHERE id = $1 AND status = 'failed'";
    on_conn!(conn, |c| sqlx::query(SQL).bind(id).execute(c).await.map(|r| r.rows_affected() == 1))
}

pub async fn recent(conn: Conn<'_>, limit: i64) -> sqlx::Result<Vec<WebhookEvent>> {
    let sql = format!("SELECT {COLUMNS} FROM webhook_events ORDER BY received_at DESC, id DESC LIMIT $1");
    on_conn!(conn, |c| sqlx::query_as::<_, WebhookEvent>(&sql).bind(limit).fetch_all(c).await)
}

/// Claims the draft for one GitHub release (repository id, release id); false when it was
/// claimed before (another delivery of the same release, or a retried job).
pub async fn claim_release(
    conn: Conn<'_>,
    repo_id: i64,
    release_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const SQL: &str = "INSERT INTO release_drafts (repo_id, release_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
                       ON CONFLICT (repo_id, release_id) DO NOTHING";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(repo_id)
        .bind(release_id)
        .bind(user_id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Records which post a claimed release became.
pub async fn set_release_post(conn: Conn<'_>, repo_id: i64, release_id: i64, post_id: i64) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE release_drafts SET post_id = $3 WHERE repo_id = $1 AND release_id = $2";
    on_conn!(conn, |c| sqlx::query(SQL).bind(repo_id).bind(release_id).bind(post_id).execute(c).await.map(|_| ()))
}
