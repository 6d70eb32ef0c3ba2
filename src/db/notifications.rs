//! Notifications: per-user events, persisted for catch-up and the notifications page.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};
use crate::models::Notification;

const COLUMNS: &str = "id, user_id, kind, data, read_at, created_at";

pub async fn insert(
    conn: Conn<'_>,
    user_id: i64,
    kind: &str,
    data: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Notification> {
    let sql = format!(
        "INSERT INTO notifications (user_id, kind, data, created_at) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
    );
    on_conn!(conn, |c| sqlx::query_as::<_, Notification>(&sql)
        .bind(user_id)
        .bind(kind)
        .bind(data)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Inserts a notification unless `user_id` already has an unread one with `dedupe_key`
/// (then `None`). The partial unique index makes this hold under concurrent inserts too.
pub async fn insert_unless_unread(
    conn: Conn<'_>,
    user_id: i64,
    kind: &str,
    dedupe_key: &str,
    data: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Notification>> {
    let sql = format!(
        "INSERT INTO notifications (user_id, kind, data, created_at, dedupe_key) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id, dedupe_key) WHERE read_at IS NULL AND dedupe_key IS NOT NULL DO NOTHING \
         RETURNING {COLUMNS}"
    );
    on_conn!(conn, |c| sqlx::query_as::<_, Notification>(&sql)
        .bind(user_id)
        .bind(kind)
        .bind(data)
        .bind(now)
        .bind(dedupe_key)
        .fetch_optional(c)
        .await)
}

/// A user's notifications after `after_id`, oldest first (SSE replay), at most `limit`.
pub async fn after(conn: Conn<'_>, user_id: i64, after_id: i64, limit: i64) -> sqlx::Result<Vec<Notification>> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    on_conn!(conn, |c| sqlx::query_as::<_, Notification>(&sql)
        .bind(user_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// A user's newest notifications, newest first.
pub async fn latest(conn: Conn<'_>, user_id: i64, limit: i64) -> sqlx::Result<Vec<Notification>> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2");
    on_conn!(conn, |c| sqlx::query_as::<_, Notification>(&sql).bind(user_id).bind(limit).fetch_all(c).await)
}

pub async fn unread_count(conn: Conn<'_>, user_id: i64) -> sqlx::Result<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).bind(user_id).fetch_one(c).await)
}

/// Marks one (`Some(id)`) or all of a user's notifications read.
pub async fn mark_read(conn: Conn<'_>, user_id: i64, id: Option<i64>, now: DateTime<Utc>) -> sqlx::Result<u64> {
    const SQL: &str = "UPDATE notifications SET read_at = $3 \
                       WHERE user_id = $1 AND read_at IS NULL AND ($2 IS NULL OR id = $2)";
    on_conn!(conn, |c| sqlx::query(SQL).bind(user_id).bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))
}
