//! The job queue's statements. Claiming is one atomic statement per dialect: PostgreSQL
//! skips rows another worker holds (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a
//! time, so the same `UPDATE … WHERE id = (SELECT …)` cannot hand one job to two workers.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn, Db};
use crate::models::Job;

const COLUMNS: &str = "id, kind, payload, status, attempts, max_attempts, run_at, locked_until, locked_by, \
                       last_error, created_at, updated_at";

pub async fn insert(
    conn: Conn<'_>,
    kind: &str,
    payload: &str,
    max_attempts: i64,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    const SQL: &str =
        "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at) \
                       VALUES ($1, $2, 'queued', 0, $3, $4, $5, $5) RETURNING id";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL)
        .bind(kind)
        .bind(payload)
        .bind(max_attempts)
        .bind(run_at)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Takes the next due job (queued and due, or running with an expired lease) for `worker`
/// until `lease_until`, counting the attempt.
pub async fn claim(db: &Db, worker: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> sqlx::Result<Option<Job>> {
    const PICK: &str = "SELECT id FROM jobs \
         WHERE (status = 'queued' AND run_at <= $1) OR (status = 'running' AND locked_until < $1) \
         ORDER BY run_at, id LIMIT 1";
    let sql_pg = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $2, locked_until = $3, updated_at = $1 \
         WHERE id = ({PICK} FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}"
    );
    let sql_lite = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $2, locked_until = $3, updated_at = $1 \
         WHERE id = ({PICK}) RETURNING {COLUMNS}"
    );
    super::count_statement();
    match db {
        Db::Postgres(p) => {
            sqlx::query_as::<_, Job>(&sql_pg).bind(now).bind(worker).bind(lease_until).fetch_optional(p).await
        }
        Db::Sqlite(p, ..) => {
            sqlx::query_as::<_, Job>(&sql_lite).bind(now).bind(worker).bind(lease_until).fetch_optional(p).await
        }
    }
}

/// Marks a job done, if `worker` still holds it.
pub async fn complete(conn: Conn<'_>, id: i64, worker: &str, now: DateTime<Utc>) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE jobs SET status = 'done', locked_until = NULL, last_error = NULL, updated_at = $3 \
                       WHERE id = $1 AND locked_by = $2 AND status = 'running'";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(id)
        .bind(worker)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Records a failed attempt: queued again at `retry_at`, or `failed` for good when `retry_at` is None.
pub async fn fail(
    conn: Conn<'_>,
    id: i64,
    worker: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE jobs SET status = CASE WHEN $4 THEN 'queued' ELSE 'failed' END, \
                       run_at = COALESCE($5, run_at), last_error = $3, locked_until = NULL, updated_at = $6 \
                       WHERE id = $1 AND locked_by = $2 AND status = 'running'";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(id)
        .bind(worker)
        .bind(error)
        .bind(retry_at.is_some())
        .bind(retry_at)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// Puts a failed job back in the queue, due now, with a fresh set of attempts.
pub async fn retry(conn: Conn<'_>, id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $2, locked_by = NULL, \
                       locked_until = NULL, updated_at = $2 WHERE id = $1 AND status = 'failed'";
    on_conn!(conn, |c| sqlx::query(SQL).bind(id).bind(now).execute(c).await.map(|r| r.rows_affected() == 1))
}

pub async fn find(conn: Conn<'_>, id: i64) -> sqlx::Result<Option<Job>> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    on_conn!(conn, |c| sqlx::query_as::<_, Job>(&sql).bind(id).fetch_optional(c).await)
}

/// The most recently touched jobs, newest first.
pub async fn recent(conn: Conn<'_>, limit: i64) -> sqlx::Result<Vec<Job>> {
    let sql = format!("SELECT {COLUMNS} FROM jobs ORDER BY updated_at DESC, id DESC LIMIT $1");
    on_conn!(conn, |c| sqlx::query_as::<_, Job>(&sql).bind(limit).fetch_all(c).await)
}

/// Jobs waiting or running (the queue depth).
pub async fn depth(conn: Conn<'_>) -> sqlx::Result<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).fetch_one(c).await)
}

/// Removes finished jobs older than `before`.
/// How many jobs are in each status.
pub async fn count_by_status(conn: Conn<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    const SQL: &str = "SELECT status, COUNT(*) FROM jobs GROUP BY status";
    on_conn!(conn, |c| sqlx::query_as::<_, (String, i64)>(SQL).fetch_all(c).await)
}

pub async fn purge_done(conn: Conn<'_>, before: DateTime<Utc>) -> sqlx::Result<u64> {
    const SQL: &str = "DELETE FROM jobs WHERE status = 'done' AND updated_at < $1";
    on_conn!(conn, |c| sqlx::query(SQL).bind(before).execute(c).await.map(|r| r.rows_affected()))
}
