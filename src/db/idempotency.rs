//! Idempotency records: one per (caller scope, hash of the `Idempotency-Key`), holding the
//! first request's keyed fingerprint and, once it finished, its status and sealed response.
//! Nothing here is readable without the key itself (see `services::idempotency`).

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct Record {
    pub fingerprint: String,
    /// `None` while the first request is still running.
    pub status: Option<i32>,
    /// The response, encrypted (nonce ‖ ciphertext).
    pub sealed: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
}

/// Claims the key for a new request; false when a record already exists.
pub async fn try_begin(
    conn: Conn<'_>,
    scope: &str,
    key_hash: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const SQL: &str =
        "INSERT INTO idempotency_keys (scope, key_hash, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
                       ON CONFLICT (scope, key_hash) DO NOTHING";
    on_conn!(conn, |c| {
        sqlx::query(SQL)
            .bind(scope)
            .bind(key_hash)
            .bind(fingerprint)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

pub async fn find(conn: Conn<'_>, scope: &str, key_hash: &str) -> sqlx::Result<Option<Record>> {
    const SQL: &str = "SELECT fingerprint, status, sealed, created_at FROM idempotency_keys \
                       WHERE scope = $1 AND key_hash = $2";
    on_conn!(conn, |c| sqlx::query_as::<_, Record>(SQL).bind(scope).bind(key_hash).fetch_optional(c).await)
}

pub async fn complete(conn: Conn<'_>, scope: &str, key_hash: &str, status: i32, sealed: &[u8]) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE idempotency_keys SET status = $1, sealed = $2 WHERE scope = $3 AND key_hash = $4";
    on_conn!(conn, |c| {
        sqlx::query(SQL).bind(status).bind(sealed).bind(scope).bind(key_hash).execute(c).await.map(|_| ())
    })
}

pub async fn remove(conn: Conn<'_>, scope: &str, key_hash: &str) -> sqlx::Result<()> {
    const SQL: &str = "DELETE FROM idempotency_keys WHERE scope = $1 AND key_hash = $2";
    on_conn!(conn, |c| sqlx::query(SQL).bind(scope).bind(key_hash).execute(c).await.map(|_| ()))
}

/// Deletes records created before `cutoff`; returns how many.
pub async fn purge_before(conn: Conn<'_>, cutoff: DateTime<Utc>) -> sqlx::Result<u64> {
    const SQL: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";
    on_conn!(conn, |c| sqlx::query(SQL).bind(cutoff).execute(c).await.map(|r| r.rows_affected()))
}
