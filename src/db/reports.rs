//! Report exports: their records, and the rows they hold, streamed from the database
//! (never collected: a report of a million rows holds one row at a time).

use chrono::{DateTime, Utc};
use futures_util::{stream::BoxStream, StreamExt};

use super::{on_conn, Conn};
use crate::models::ReportStatus;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: String,
    pub user_id: i64,
    pub kind: String,
    pub format: String,
    pub status: String,
    pub row_count: i64,
    pub byte_size: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, user_id, kind, format, status, row_count, byte_size, error, created_at, completed_at";

pub async fn insert(
    conn: Conn<'_>,
    id: &str,
    user_id: i64,
    kind: &str,
    format: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    const SQL: &str =
        "INSERT INTO reports (id, user_id, kind, format, status, created_at) VALUES ($1, $2, $3, $4, 'running', $5)";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(id)
        .bind(user_id)
        .bind(kind)
        .bind(format)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn finish(
    conn: Conn<'_>,
    id: &str,
    status: ReportStatus,
    rows: i64,
    bytes: i64,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    const SQL: &str =
        "UPDATE reports SET status = $2, row_count = $3, byte_size = $4, error = $5, completed_at = $6 WHERE id = $1";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(id)
        .bind(status.as_str())
        .bind(rows)
        .bind(bytes)
        .bind(error)
        .bind(now)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<ReportRow>> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE id = $1");
    on_conn!(conn, |c| sqlx::query_as::<_, ReportRow>(&sql).bind(id).fetch_optional(c).await)
}

pub async fn for_user(conn: Conn<'_>, user_id: i64, limit: i64) -> sqlx::Result<Vec<ReportRow>> {
    let sql = format!("SELECT {COLUMNS} FROM reports WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2");
    on_conn!(conn, |c| sqlx::query_as::<_, ReportRow>(&sql).bind(user_id).bind(limit).fetch_all(c).await)
}

/// One line of a `my_posts` export.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostLine {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub category: String,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub likes: i64,
    pub comments: i64,
}

/// One line of a `site_stats` export: what happened on one day (UTC).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayLine {
    pub day: String,
    pub posts: i64,
    pub comments: i64,
    pub likes: i64,
    pub users: i64,
}

const POSTS_WHERE: &str = "WHERE p.author_id = $1 AND p.created_at >= $2 AND p.created_at < $3";

pub async fn count_posts(conn: Conn<'_>, author_id: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> sqlx::Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM posts p {POSTS_WHERE}");
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(&sql).bind(author_id).bind(from).bind(to).fetch_one(c).await)
}

/// One page of an author's posts in [from, to), oldest first, after `after` (keyset:
/// created_at, id). Pages keep memory bounded whatever the driver buffers, and no read
/// transaction stays open for the whole export.
pub async fn posts_page(
    conn: Conn<'_>,
    author_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<PostLine>> {
    const SQL: &str =
        "SELECT p.id, p.title, p.slug, p.category, p.published, p.published_at, p.created_at, p.updated_at, \
         (SELECT COUNT(*) FROM likes l WHERE l.post_id = p.id) AS likes, \
         (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id) AS comments \
         FROM posts p WHERE p.author_id = $1 AND p.created_at >= $2 AND p.created_at < $3 \
         AND ($4 IS NULL OR p.created_at > $4 OR (p.created_at = $4 AND p.id > $5)) \
         ORDER BY p.created_at, p.id LIMIT $6";
    let (after_t, after_id) = match after {
        Some((t, id)) => (Some(t), id),
        None => (None, 0),
    };
    on_conn!(conn, |c| sqlx::query_as::<_, PostLine>(SQL)
        .bind(author_id)
        .bind(from)
        .bind(to)
        .bind(after_t)
        .bind(after_id)
        .bind(limit)
        .fetch_all(c)
        .await)
}

fn day_sql(day: &str) -> String {
    format!(
        "SELECT day, SUM(posts) AS posts, SUM(comments) AS comments, SUM(likes) AS likes, SUM(users) AS users FROM ( \
           SELECT {d} AS day, 1 AS posts, 0 AS comments, 0 AS likes, 0 AS users FROM posts t WHERE t.created_at >= $1 AND t.created_at < $2 \
           UNION ALL SELECT {d}, 0, 1, 0, 0 FROM comments t WHERE t.created_at >= $1 AND t.created_at < $2 \
           UNION ALL SELECT {d}, 0, 0, 1, 0 FROM likes t WHERE t.created_at >= $1 AND t.created_at < $2 \
           UNION ALL SELECT {d}, 0, 0, 0, 1 FROM users t WHERE t.created_at >= $1 AND t.created_at < $2 \
         ) x GROUP BY day ORDER BY day",
        d = day
    )
}

const DAY_SQLITE: &str = "substr(t.created_at, 1, 10)";
const DAY_PG: &str = "to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')";

/// The per-day statement for each dialect, built once.
fn days_statement(postgres: bool) -> &'static str {
    static LITE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static PG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if postgres {
        PG.get_or_init(|| day_sql(DAY_PG))
    } else {
        LITE.get_or_init(|| day_sql(DAY_SQLITE))
    }
}

pub async fn count_days(conn: Conn<'_>, from: DateTime<Utc>, to: DateTime<Utc>) -> sqlx::Result<i64> {
    let postgres = matches!(conn, Conn::Postgres(_));
    let sql = format!("SELECT COUNT(*) FROM ({}) d", days_statement(postgres));
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(&sql).bind(from).bind(to).fetch_one(c).await)
}

/// Site activity per day in [from, to), oldest first, as a stream of rows.
pub fn stream_days<'a>(conn: Conn<'a>, from: DateTime<Utc>, to: DateTime<Utc>) -> BoxStream<'a, sqlx::Result<DayLine>> {
    let sql = days_statement(matches!(conn, Conn::Postgres(_)));
    on_conn!(conn, |c| sqlx::query_as::<_, DayLine>(sql).bind(from).bind(to).fetch(c).boxed())
}

/// Reports created before `before` (to delete with their files).
pub async fn created_before(conn: Conn<'_>, before: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<(String, String)>> {
    const SQL: &str = "SELECT id, format FROM reports WHERE created_at < $1 ORDER BY created_at LIMIT $2";
    on_conn!(conn, |c| sqlx::query_as::<_, (String, String)>(SQL).bind(before).bind(limit).fetch_all(c).await)
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<()> {
    const SQL: &str = "DELETE FROM reports WHERE id = $1";
    on_conn!(conn, |c| sqlx::query(SQL).bind(id).execute(c).await.map(|_| ()))
}

/// One user's reports, as (id, format), to delete their files.
pub async fn files_of_user(conn: Conn<'_>, user_id: i64) -> sqlx::Result<Vec<(String, String)>> {
    const SQL: &str = "SELECT id, format FROM reports WHERE user_id = $1";
    on_conn!(conn, |c| sqlx::query_as::<_, (String, String)>(SQL).bind(user_id).fetch_all(c).await)
}
