//! Uploaded files' records (the bytes live on disk under content-addressed names).

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};

pub struct NewUpload<'a> {
    pub owner_id: i64,
    pub stored_name: &'a str,
    pub original_name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn insert(conn: Conn<'_>, u: &NewUpload<'_>) -> sqlx::Result<i64> {
    const SQL: &str =
        "INSERT INTO uploads (owner_id, stored_name, original_name, content_type, size, sha256, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(u.owner_id)
            .bind(u.stored_name)
            .bind(u.original_name)
            .bind(u.content_type)
            .bind(u.size)
            .bind(u.sha256)
            .bind(u.now)
            .fetch_one(c)
            .await
    })
}

/// The stored names of one owner's uploads (distinct).
pub async fn names_of_owner(conn: Conn<'_>, owner_id: i64) -> sqlx::Result<Vec<String>> {
    const SQL: &str = "SELECT DISTINCT stored_name FROM uploads WHERE owner_id = $1";
    on_conn!(conn, |c| sqlx::query_scalar::<_, String>(SQL).bind(owner_id).fetch_all(c).await)
}

/// Whether any upload record still points at `stored_name` (the same bytes may belong to several).
pub async fn is_referenced(conn: Conn<'_>, stored_name: &str) -> sqlx::Result<bool> {
    const SQL: &str = "SELECT COUNT(*) FROM uploads WHERE stored_name = $1";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).bind(stored_name).fetch_one(c).await.map(|n| n > 0))
}
