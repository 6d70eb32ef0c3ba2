//! Bulk inserts for `quire seed`: multi-row statements with explicit ids, many rows a
//! round trip, inside the caller's transaction.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};

pub struct SeedPost {
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    pub slug: String,
    pub body: String,
    pub category: &'static str,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// `(…), (…)` placeholders for a multi-row insert. SQLite gets anonymous `?`: binding
/// thousands of numbered `$n` costs SQLite a linear name look-up each (quadratic in all).
fn placeholders(conn: &Conn<'_>, rows: usize, cols: usize) -> String {
    let sqlite = matches!(conn, Conn::Sqlite(_));
    (0..rows)
        .map(|r| {
            let cells: Vec<String> =
                (1..=cols).map(|c| if sqlite { "?".to_string() } else { format!("${}", r * cols + c) }).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn max_id(conn: Conn<'_>, table: &str) -> sqlx::Result<i64> {
    let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(&sql).fetch_one(c).await)
}

pub async fn insert_posts(conn: Conn<'_>, posts: &[SeedPost]) -> sqlx::Result<()> {
    if posts.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO posts (id, author_id, title, slug, body, category, published, published_at, created_at, updated_at, version) VALUES {}",
        placeholders(&conn, posts.len(), 11)
    );
    on_conn!(conn, |c| {
        let mut q = sqlx::query(&sql);
        for p in posts {
            q = q
                .bind(p.id)
                .bind(p.author_id)
                .bind(&p.title)
                .bind(&p.slug)
                .bind(&p.body)
                .bind(p.category)
                .bind(p.published)
                .bind(p.published_at)
                .bind(p.created_at)
                .bind(p.created_at)
                .bind(1_i64);
        }
        q.execute(c).await.map(|_| ())
    })
}

/// `(post_id, tag_id)` pairs.
pub async fn insert_post_tags(conn: Conn<'_>, pairs: &[(i64, i64)]) -> sqlx::Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let sql = format!("INSERT INTO post_tags (post_id, tag_id) VALUES {}", placeholders(&conn, pairs.len(), 2));
    on_conn!(conn, |c| {
        let mut q = sqlx::query(&sql);
        for (p, t) in pairs {
            q = q.bind(p).bind(t);
        }
        q.execute(c).await.map(|_| ())
    })
}

/// `(post_id, author_id, body, created_at)` rows.
pub async fn insert_comments(conn: Conn<'_>, rows: &[(i64, i64, String, DateTime<Utc>)]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO comments (post_id, author_id, body, created_at) VALUES {}",
        placeholders(&conn, rows.len(), 4)
    );
    on_conn!(conn, |c| {
        let mut q = sqlx::query(&sql);
        for (p, a, b, t) in rows {
            q = q.bind(p).bind(a).bind(b).bind(t);
        }
        q.execute(c).await.map(|_| ())
    })
}

/// `(post_id, user_id, created_at)` rows; duplicates are skipped.
pub async fn insert_likes(conn: Conn<'_>, rows: &[(i64, i64, DateTime<Utc>)]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO likes (post_id, user_id, created_at) VALUES {} ON CONFLICT (post_id, user_id) DO NOTHING",
        placeholders(&conn, rows.len(), 3)
    );
    on_conn!(conn, |c| {
        let mut q = sqlx::query(&sql);
        for (p, u, t) in rows {
            q = q.bind(p).bind(u).bind(t);
        }
        q.execute(c).await.map(|_| ())
    })
}

/// Makes sure a tag exists and returns its id.
pub async fn tag_id(conn: Conn<'_>, name: &str) -> sqlx::Result<i64> {
    const UPSERT: &str =
        "INSERT INTO tags (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(UPSERT).bind(name).fetch_one(c).await)
}

/// After explicit ids, PostgreSQL's sequences must move past them (SQLite needs nothing).
pub async fn reset_sequences(conn: Conn<'_>) -> sqlx::Result<()> {
    if let Conn::Postgres(c) = conn {
        for table in ["posts", "users"] {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"
            );
            sqlx::query(&sql).execute(&mut *c).await?;
        }
    }
    Ok(())
}

pub async fn set_plan(conn: Conn<'_>, email: &str, plan: &str) -> sqlx::Result<u64> {
    const SQL: &str = "UPDATE users SET plan = $1, version = version + 1 WHERE lower(email) = lower($2)";
    on_conn!(conn, |c| sqlx::query(SQL).bind(plan).bind(email).execute(c).await.map(|r| r.rows_affected()))
}

/// SQLite only: prepares a bulk load — a large page cache, and the full-text triggers on
/// `posts` taken off (returned as stored) so the index is rebuilt once at the end.
pub async fn suspend_fts_triggers(conn: Conn<'_>) -> sqlx::Result<Vec<String>> {
    let Conn::Sqlite(c) = conn else { return Ok(Vec::new()) };
    // Random keys (slugs, dates) land all over the indexes: a page cache that holds them
    // (256 MiB for this connection, instead of SQLite's 2 MiB) saves most of the load's time.
    sqlx::query("PRAGMA cache_size = -262144").execute(&mut *c).await?;
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'posts_fts_%'")
            .fetch_all(&mut *c)
            .await?;
    for (name, _) in &triggers {
        sqlx::query(&format!("DROP TRIGGER \"{name}\"")).execute(&mut *c).await?;
    }
    Ok(triggers.into_iter().map(|(_, sql)| sql).collect())
}

/// Rebuilds the full-text index from `posts` and restores the triggers saved by
/// [`suspend_fts_triggers`].
pub async fn restore_fts_triggers(conn: Conn<'_>, triggers: &[String]) -> sqlx::Result<()> {
    let Conn::Sqlite(c) = conn else { return Ok(()) };
    if triggers.is_empty() {
        return Ok(());
    }
    sqlx::query("INSERT INTO posts_fts (posts_fts) VALUES ('rebuild')").execute(&mut *c).await?;
    for sql in triggers {
        sqlx::query(sql).execute(&mut *c).await?;
    }
    Ok(())
}
