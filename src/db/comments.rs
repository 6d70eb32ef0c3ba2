//! Comments and likes.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};
use crate::models::Comment;

pub async fn insert(conn: Conn<'_>, post_id: i64, author_id: i64, body: &str, now: DateTime<Utc>) -> sqlx::Result<i64> {
    const SQL: &str =
        "INSERT INTO comments (post_id, author_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(post_id)
        .bind(author_id)
        .bind(body)
        .bind(now)
        .fetch_one(c)
        .await)
}

pub async fn find(conn: Conn<'_>, id: i64) -> sqlx::Result<Option<Comment>> {
    const SQL: &str = "SELECT c.id, c.post_id, c.author_id, u.name AS author_name, c.body, c.created_at \
                       FROM comments c JOIN users u ON u.id = c.author_id WHERE c.id = $1";
    on_conn!(conn, |c| sqlx::query_as::<_, Comment>(SQL).bind(id).fetch_optional(c).await)
}

/// Up to `limit` of a post's comments after comment `after_id` (0: from the first), oldest first.
/// Served by `comments_post_idx (post_id, id)`.
pub async fn page_after(conn: Conn<'_>, post_id: i64, after_id: i64, limit: i64) -> sqlx::Result<Vec<Comment>> {
    const SQL: &str = "SELECT c.id, c.post_id, c.author_id, u.name AS author_name, c.body, c.created_at \
                       FROM comments c JOIN users u ON u.id = c.author_id \
                       WHERE c.post_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3";
    on_conn!(conn, |c| sqlx::query_as::<_, Comment>(SQL).bind(post_id).bind(after_id).bind(limit).fetch_all(c).await)
}

/// Up to `limit` of a post's comments before comment `before_id` (`i64::MAX`: the newest), newest first.
pub async fn page_before(conn: Conn<'_>, post_id: i64, before_id: i64, limit: i64) -> sqlx::Result<Vec<Comment>> {
    const SQL: &str = "SELECT c.id, c.post_id, c.author_id, u.name AS author_name, c.body, c.created_at \
                       FROM comments c JOIN users u ON u.id = c.author_id \
                       WHERE c.post_id = $1 AND c.id < $2 ORDER BY c.id DESC LIMIT $3";
    on_conn!(conn, |c| sqlx::query_as::<_, Comment>(SQL).bind(post_id).bind(before_id).bind(limit).fetch_all(c).await)
}

pub async fn delete(conn: Conn<'_>, id: i64) -> sqlx::Result<()> {
    const SQL: &str = "DELETE FROM comments WHERE id = $1";
    on_conn!(conn, |c| sqlx::query(SQL).bind(id).execute(c).await.map(|_| ()))
}

/// Likes a post; liking twice is a no-op. True when this call added the like.
pub async fn like(conn: Conn<'_>, post_id: i64, user_id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    const SQL: &str =
        "INSERT INTO likes (post_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (post_id, user_id) DO NOTHING";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(post_id)
        .bind(user_id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Takes a like back; true when there was one.
pub async fn unlike(conn: Conn<'_>, post_id: i64, user_id: i64) -> sqlx::Result<bool> {
    const SQL: &str = "DELETE FROM likes WHERE post_id = $1 AND user_id = $2";
    on_conn!(conn, |c| sqlx::query(SQL).bind(post_id).bind(user_id).execute(c).await.map(|r| r.rows_affected() == 1))
}

/// Like count, comment count and whether `viewer` liked the post, in one round trip.
pub async fn stats(conn: Conn<'_>, post_id: i64, viewer: Option<i64>) -> sqlx::Result<(i64, i64, bool)> {
    const SQL: &str = "SELECT (SELECT COUNT(*) FROM likes WHERE post_id = $1), \
                              (SELECT COUNT(*) FROM comments WHERE post_id = $1), \
                              EXISTS (SELECT 1 FROM likes WHERE post_id = $1 AND user_id = $2)";
    on_conn!(conn, |c| {
        sqlx::query_as::<_, (i64, i64, bool)>(SQL).bind(post_id).bind(viewer.unwrap_or(-1)).fetch_one(c).await
    })
}
