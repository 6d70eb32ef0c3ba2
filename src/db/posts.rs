//! Posts and their tags.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};
use crate::models::{post::MyPost, Category, Post, PostContent};

macro_rules! post_select {
    () => {
        "SELECT p.id, p.author_id, u.name AS author_name, p.title, p.slug, p.body, p.category, p.published, \
         p.published_at, p.created_at, p.updated_at, p.version FROM posts p JOIN users u ON u.id = p.author_id "
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostRow {
    pub id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub title: String,
    pub slug: String,
    pub body: String,
    pub category: String,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl PostRow {
    pub fn into_post(self, tags: Vec<String>) -> Post {
        Post {
            id: self.id,
            author_id: self.author_id,
            author_name: self.author_name,
            title: self.title,
            slug: self.slug,
            body: self.body,
            category: Category::parse(&self.category).unwrap_or_default(),
            tags,
            published: self.published,
            published_at: self.published_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

pub struct NewPost<'a> {
    pub author_id: i64,
    pub slug: &'a str,
    pub content: &'a PostContent,
    pub now: DateTime<Utc>,
}

/// Inserts a draft; `None` when its slug is taken (nothing inserted, the transaction still usable).
pub async fn insert(conn: Conn<'_>, new: &NewPost<'_>) -> sqlx::Result<Option<i64>> {
    const SQL: &str =
        "INSERT INTO posts (author_id, title, slug, body, category, published, created_at, updated_at, version) \
                       VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6, 1) ON CONFLICT (slug) DO NOTHING RETURNING id";
    on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(new.author_id)
            .bind(new.content.title())
            .bind(new.slug)
            .bind(new.content.body())
            .bind(new.content.category().as_str())
            .bind(new.now)
            .fetch_optional(c)
            .await
    })
}

/// The next number for slug `base` (1 the first time): one statement, however many posts share it.
pub async fn next_slug_number(conn: Conn<'_>, base: &str) -> sqlx::Result<i64> {
    const SQL: &str = "INSERT INTO slug_counters (base, last) VALUES ($1, 1) \
                       ON CONFLICT (base) DO UPDATE SET last = slug_counters.last + 1 RETURNING last";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).bind(base).fetch_one(c).await)
}

/// Moves `base`'s counter up to at least `last`.
pub async fn raise_slug_counter(conn: Conn<'_>, base: &str, last: i64) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE slug_counters SET last = $2 WHERE base = $1 AND last < $2";
    on_conn!(conn, |c| sqlx::query(SQL).bind(base).bind(last).execute(c).await.map(|_| ()))
}

/// The highest number in use for `base` (`base` itself counts as 1, `base-7` as 7): a scan,
/// run only when the counter collides with a post from before it.
pub async fn highest_slug_number(conn: Conn<'_>, base: &str) -> sqlx::Result<i64> {
    const SQL: &str = "SELECT slug FROM posts WHERE slug = $1 OR slug LIKE $2";
    let pattern = format!("{base}-%");
    let slugs: Vec<String> =
        on_conn!(conn, |c| sqlx::query_scalar::<_, String>(SQL).bind(base).bind(&pattern).fetch_all(c).await)?;
    Ok(slugs
        .iter()
        .filter_map(|s| if s == base { Some(1) } else { s[base.len() + 1..].parse::<i64>().ok() })
        .max()
        .unwrap_or(0))
}

pub async fn find_by_id(conn: Conn<'_>, id: i64) -> sqlx::Result<Option<PostRow>> {
    const SQL: &str = concat!(post_select!(), "WHERE p.id = $1");
    on_conn!(conn, |c| sqlx::query_as::<_, PostRow>(SQL).bind(id).fetch_optional(c).await)
}

pub async fn find_by_slug(conn: Conn<'_>, slug: &str) -> sqlx::Result<Option<PostRow>> {
    const SQL: &str = concat!(post_select!(), "WHERE p.slug = $1");
    on_conn!(conn, |c| sqlx::query_as::<_, PostRow>(SQL).bind(slug).fetch_optional(c).await)
}

/// Updates the content if the stored version is still `expected_version`; returns whether it was.
pub async fn update_content(
    conn: Conn<'_>,
    id: i64,
    expected_version: i64,
    content: &PostContent,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE posts SET title = $1, body = $2, category = $3, updated_at = $4, version = version + 1 \
                       WHERE id = $5 AND version = $6";
    on_conn!(conn, |c| {
        sqlx::query(SQL)
            .bind(content.title())
            .bind(content.body())
            .bind(content.category().as_str())
            .bind(now)
            .bind(id)
            .bind(expected_version)
            .execute(c)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// Publishes (keeping the first publication time) or unpublishes a post, if it is still at
/// `expected_version`; returns whether it was (a concurrent writer may have moved it on).
pub async fn set_published(
    conn: Conn<'_>,
    id: i64,
    expected_version: i64,
    published: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE posts SET published = $1, \
                       published_at = CASE WHEN $1 THEN COALESCE(published_at, $2) ELSE published_at END, \
                       updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(published)
        .bind(now)
        .bind(id)
        .bind(expected_version)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

pub async fn delete(conn: Conn<'_>, id: i64) -> sqlx::Result<()> {
    const SQL: &str = "DELETE FROM posts WHERE id = $1";
    on_conn!(conn, |c| sqlx::query(SQL).bind(id).execute(c).await.map(|_| ()))
}

pub async fn count_published_by(conn: Conn<'_>, author_id: i64) -> sqlx::Result<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM posts WHERE author_id = $1 AND published = TRUE";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).bind(author_id).fetch_one(c).await)
}

/// Gives a new post its tags (creating tags that do not exist yet).
pub async fn add_tags(mut conn: Conn<'_>, post_id: i64, tags: &[String]) -> sqlx::Result<()> {
    if tags.is_empty() {
        return Ok(());
    }
    const UPSERT_TAG: &str = "INSERT INTO tags (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
    const LINK: &str = "INSERT INTO post_tags (post_id, tag_id) SELECT $1, id FROM tags WHERE name = $2";
    on_conn!(&mut conn, |c| {
        for tag in tags {
            sqlx::query(UPSERT_TAG).bind(tag).execute(&mut **c).await?;
            sqlx::query(LINK).bind(post_id).bind(tag).execute(&mut **c).await?;
        }
        Ok(())
    })
}

/// Replaces a post's tags (creating tags that do not exist yet).
pub async fn set_tags(mut conn: Conn<'_>, post_id: i64, tags: &[String]) -> sqlx::Result<()> {
    const CLEAR: &str = "DELETE FROM post_tags WHERE post_id = $1";
    on_conn!(&mut conn, |c| sqlx::query(CLEAR).bind(post_id).execute(&mut **c).await.map(|_| ()))?;
    add_tags(conn, post_id, tags).await
}

/// The tags of many posts in one query: `(post_id, tag)` pairs ordered by tag.
pub async fn tags_of(conn: Conn<'_>, post_ids: &[i64]) -> sqlx::Result<Vec<(i64, String)>> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=post_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT pt.post_id, t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id \
         WHERE pt.post_id IN ({}) ORDER BY t.name",
        placeholders.join(", ")
    );
    on_conn!(conn, |c| {
        let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
        for id in post_ids {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })
}

/// Published posts matching a full-text query, best match first. The one statement
/// that differs by dialect: SQLite's FTS5 index (bm25, title weighted 10:1) against PostgreSQL's
/// weighted tsvector column and GIN index (ts_rank).
pub async fn search_published(conn: Conn<'_>, query: &str, limit: i64) -> sqlx::Result<Vec<PostRow>> {
    match conn {
        Conn::Sqlite(c) => {
            const SQL: &str = concat!(
                post_select!(),
                "JOIN posts_fts f ON f.rowid = p.id WHERE posts_fts MATCH $1 AND p.published = TRUE ",
                "ORDER BY bm25(posts_fts, 10.0, 1.0) LIMIT $2"
            );
            let Some(fts) = fts5_query(query) else { return Ok(Vec::new()) };
            sqlx::query_as::<_, PostRow>(SQL).bind(fts).bind(limit).fetch_all(c).await
        }
        Conn::Postgres(c) => {
            const SQL: &str = concat!(
                post_select!(),
                "WHERE p.search @@ websearch_to_tsquery('english', $1) AND p.published = TRUE ",
                "ORDER BY ts_rank(p.search, websearch_to_tsquery('english', $1)) DESC, p.id DESC LIMIT $2"
            );
            sqlx::query_as::<_, PostRow>(SQL).bind(query).bind(limit).fetch_all(c).await
        }
    }
}

/// Turns what a reader typed into an FTS5 query that cannot be a syntax error: each word
/// becomes a quoted term (all must match).
fn fts5_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{w}\""))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

pub use crate::models::list::ListFilter;

/// What a front-page card shows: no body (the biggest column by far).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CardRow {
    pub id: i64,
    pub author_name: String,
    pub title: String,
    pub slug: String,
    pub category: String,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const CARD_SELECT: &str = "SELECT p.id, u.name AS author_name, p.title, p.slug, p.category, p.published_at, \
                           p.created_at FROM posts p JOIN users u ON u.id = p.author_id ";

/// Published posts (or one author's drafts), newest first, after the keyset position `after`
/// (published_at or, for drafts, created_at; then id). One statement whatever the filters;
/// `posts_published_idx` serves the public order.
pub async fn list_published(
    conn: Conn<'_>,
    filter: &ListFilter,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<PostRow>> {
    list_as::<PostRow>(conn, post_select!(), filter, after, limit).await
}

/// As [`list_published`], the cards only.
pub async fn list_cards(
    conn: Conn<'_>,
    filter: &ListFilter,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<CardRow>> {
    list_as::<CardRow>(conn, CARD_SELECT, filter, after, limit).await
}

async fn list_as<R>(
    conn: Conn<'_>,
    select: &str,
    filter: &ListFilter,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<R>>
where
    R: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let sqlite = matches!(conn, Conn::Sqlite(_));
    let fts = match (filter.q(), sqlite) {
        (Some(q), true) => match fts5_query(q) {
            Some(f) => Some(f),
            None => return Ok(Vec::new()),
        },
        (Some(q), false) => Some(q.to_string()),
        (None, _) => None,
    };
    let order_col = if filter.draft_author().is_some() { "p.created_at" } else { "p.published_at" };
    let mut sql = String::with_capacity(select.len() + 256);
    sql.push_str(select);
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if filter.draft_author().is_some() {
        sql.push_str(&format!("WHERE p.published = FALSE AND p.author_id = {}", next()));
    } else {
        sql.push_str("WHERE p.published = TRUE");
    }
    if filter.category().is_some() {
        sql.push_str(&format!(" AND p.category = {}", next()));
    }
    for _ in filter.tags() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id AND t.name = {})",
            next()
        ));
    }
    if filter.author_id().is_some() {
        sql.push_str(&format!(" AND p.author_id = {}", next()));
    }
    if fts.is_some() {
        if sqlite {
            sql.push_str(&format!(" AND p.id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH {})", next()));
        } else {
            sql.push_str(&format!(" AND p.search @@ websearch_to_tsquery('english', {})", next()));
        }
    }
    if after.is_some() {
        let (at, id) = (next(), next());
        sql.push_str(&format!(" AND ({order_col} < {at} OR ({order_col} = {at} AND p.id < {id}))"));
    }
    sql.push_str(&format!(" ORDER BY {order_col} DESC, p.id DESC LIMIT {}", next()));

    on_conn!(conn, |c| {
        let mut q = sqlx::query_as::<_, R>(&sql);
        if let Some(a) = filter.draft_author() {
            q = q.bind(a);
        }
        if let Some(cat) = filter.category() {
            q = q.bind(cat.as_str());
        }
        for tag in filter.tags() {
            q = q.bind(tag);
        }
        if let Some(a) = filter.author_id() {
            q = q.bind(a);
        }
        if let Some(f) = &fts {
            q = q.bind(f);
        }
        if let Some((at, id)) = after {
            q = q.bind(at).bind(id);
        }
        q.bind(limit).fetch_all(c).await
    })
}

/// Tags with the number of published posts carrying each, most used first.
pub async fn tag_counts(conn: Conn<'_>, limit: i64) -> sqlx::Result<Vec<(String, i64)>> {
    const SQL: &str = "SELECT t.name, COUNT(p.id) AS posts FROM tags t \
                       JOIN post_tags pt ON pt.tag_id = t.id JOIN posts p ON p.id = pt.post_id AND p.published = TRUE \
                       GROUP BY t.name ORDER BY posts DESC, t.name LIMIT $1";
    on_conn!(conn, |c| sqlx::query_as::<_, (String, i64)>(SQL).bind(limit).fetch_all(c).await)
}

/// One page of an author's posts, drafts included, most recently changed first, after
/// `before` (the previous page's last row): one indexed range read however many they wrote.
pub async fn list_by_author(
    conn: Conn<'_>,
    author_id: i64,
    before: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<MyPost>> {
    const FIRST: &str = "SELECT id, title, slug, published, updated_at FROM posts WHERE author_id = $1 \
                         ORDER BY updated_at DESC, id DESC LIMIT $2";
    const NEXT: &str = "SELECT id, title, slug, published, updated_at FROM posts WHERE author_id = $1 \
                        AND (updated_at < $3 OR (updated_at = $3 AND id < $4)) ORDER BY updated_at DESC, id DESC LIMIT $2";
    type Row = (i64, String, String, bool, DateTime<Utc>);
    let rows = on_conn!(conn, |c| match before {
        None => sqlx::query_as::<_, Row>(FIRST).bind(author_id).bind(limit).fetch_all(c).await,
        Some((at, id)) =>
            sqlx::query_as::<_, Row>(NEXT).bind(author_id).bind(limit).bind(at).bind(id).fetch_all(c).await,
    })?;
    let post = |(id, title, slug, published, updated_at): Row| MyPost { id, title, slug, published, updated_at };
    Ok(rows.into_iter().map(post).collect())
}
