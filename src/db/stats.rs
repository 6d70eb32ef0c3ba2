//! Counts for the operations dashboard.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};

/// Accounts created since `since`.
pub async fn users_since(conn: Conn<'_>, since: DateTime<Utc>) -> sqlx::Result<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM users WHERE created_at >= $1";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).bind(since).fetch_one(c).await)
}

/// Posts created since `since`.
pub async fn posts_since(conn: Conn<'_>, since: DateTime<Utc>) -> sqlx::Result<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM posts WHERE created_at >= $1";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).bind(since).fetch_one(c).await)
}
