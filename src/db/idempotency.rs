//! Idempotency records: one per (caller scope, `Idempotency-Key`), holding the first
//! request's fingerprint and, once it finished, its response.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct Record {
    pub fingerprint: String,
    /// `None` while the first request is still running.
    pub status: Option<i32>,
    pub headers: Option<String>,
    pub body: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
}

/// Claims the key for a new request; false when a record already exists.
pub async fn try_begin(
    conn: Conn<'_>,
    scope: &str,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const SQL: &str = "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
                       ON CONFLICT (scope, key) DO NOTHING";
    on_conn!(conn, |c| {
        sqlx::query(SQL)
            .bind(scope)
            .bind(key)
            .bind(fingerprint)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

pub async fn find(conn: Conn<'_>, scope: &str, key: &str) -> sqlx::Result<Option<Record>> {
    const SQL: &str = "SELECT fingerprint, status, headers, body, created_at FROM idempotency_keys \
                       WHERE scope = $1 AND key = $2";
    on_conn!(conn, |c| sqlx::query_as::<_, Record>(SQL).bind(scope).bind(key).fetch_optional(c).await)
}

pub async fn complete(
    conn: Conn<'_>,
    scope: &str,
    key: &str,
    status: i32,
    headers: &str,
    body: &[u8],
) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE idempotency_keys SET status = $1, headers = $2, body = $3 WHERE scope = $4 AND key = $5";
    on_conn!(conn, |c| {
        sqlx::query(SQL).bind(status).bind(headers).bind(body).bind(scope).bind(key).execute(c).await.map(|_| ())
    })
}

pub async fn remove(conn: Conn<'_>, scope: &str, key: &str) -> sqlx::Result<()> {
    const SQL: &str = "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2";
    on_conn!(conn, |c| sqlx::query(SQL).bind(scope).bind(key).execute(c).await.map(|_| ()))
}

/// Deletes records created before `cutoff`; returns how many.
pub async fn purge_before(conn: Conn<'_>, cutoff: DateTime<Utc>) -> sqlx::Result<u64> {
    const SQL: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";
    on_conn!(conn, |c| sqlx::query(SQL).bind(cutoff).execute(c).await.map(|r| r.rows_affected()))
}
