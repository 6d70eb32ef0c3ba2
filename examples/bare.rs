//! The baseline for `scripts/bench/compare.sh`: a bare axum + sqlx server doing the same work as
//! Quire on the same database, with nothing else — no layers, no framework, no cache. Quire's
//! numbers are reported as a ratio of this one's, measured in the same run.
//!
//! - `GET /`: the front page — the 20 newest published posts' cards (title, author, date,
//!   category; no body) and their tags, two statements, rendered as an HTML page of the same shape;
//! - `GET /api/v1/posts?limit=20`: the same two statements as JSON (`{data, next_cursor}`), and
//!   with `Authorization: Bearer …` the token look-up Quire makes first;
//! - `POST /api/v1/posts`: the token look-up, then the post and its audit row in one transaction.
//!
//! `cargo run --release --example bare --features ssr -- <sqlite file> <address>`

use std::{fmt::Write as _, str::FromStr, time::Duration};

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Json, Router,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};

const POSTS: &str = "SELECT p.id, p.author_id, u.name AS author_name, p.title, p.slug, p.body, p.category, \
    p.published, p.published_at, p.created_at, p.updated_at, p.version FROM posts p JOIN users u ON u.id = p.author_id \
    WHERE p.published = TRUE ORDER BY p.published_at DESC, p.id DESC LIMIT $1";

#[derive(Debug, Serialize, sqlx::FromRow)]
struct Post {
    id: i64,
    author_id: i64,
    author_name: String,
    title: String,
    slug: String,
    body: String,
    category: String,
    #[sqlx(skip)]
    tags: Vec<String>,
    published: bool,
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

/// What a front-page card shows (no body).
#[derive(Debug, sqlx::FromRow)]
struct Card {
    id: i64,
    author_name: String,
    title: String,
    slug: String,
    category: String,
    published_at: Option<DateTime<Utc>>,
    #[sqlx(skip)]
    tags: Vec<String>,
}

const CARDS: &str = "SELECT p.id, u.name AS author_name, p.title, p.slug, p.category, p.published_at \
    FROM posts p JOIN users u ON u.id = p.author_id \
    WHERE p.published = TRUE ORDER BY p.published_at DESC, p.id DESC LIMIT $1";

async fn tags_of(pool: &SqlitePool, ids: &[i64]) -> sqlx::Result<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT pt.post_id, t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id IN ({}) ORDER BY t.name",
        list.join(", ")
    );
    sqlx::query_as(&sql).fetch_all(pool).await
}

async fn cards(pool: &SqlitePool, limit: i64) -> sqlx::Result<Vec<Card>> {
    let mut cards: Vec<Card> = sqlx::query_as(CARDS).bind(limit).fetch_all(pool).await?;
    let ids: Vec<i64> = cards.iter().map(|c| c.id).collect();
    let tags = tags_of(pool, &ids).await?;
    for c in &mut cards {
        c.tags = tags.iter().filter(|(id, _)| *id == c.id).map(|(_, t)| t.clone()).collect();
    }
    Ok(cards)
}

#[derive(Serialize)]
struct Page {
    data: Vec<Post>,
    next_cursor: Option<String>,
}

async fn newest(pool: &SqlitePool, limit: i64) -> sqlx::Result<Vec<Post>> {
    let mut posts: Vec<Post> = sqlx::query_as(POSTS).bind(limit).fetch_all(pool).await?;
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let tags = tags_of(pool, &ids).await?;
    for p in &mut posts {
        p.tags = tags.iter().filter(|(id, _)| *id == p.id).map(|(_, t)| t.clone()).collect();
    }
    Ok(posts)
}

/// The token look-up Quire makes for a bearer caller (the same statement).
async fn caller(pool: &SqlitePool, headers: &HeaderMap) -> Result<Option<i64>, StatusCode> {
    let Some(raw) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let secret = raw.strip_prefix("Bearer ").ok_or(StatusCode::UNAUTHORIZED)?;
    let hash = hex::encode(Sha256::digest(secret.as_bytes()));
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT t.id, u.id FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(hash)
    .bind(Utc::now())
    .fetch_optional(pool)
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    row.map(|(_, user)| Some(user)).ok_or(StatusCode::UNAUTHORIZED)
}

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

async fn front(State(pool): State<SqlitePool>) -> Response {
    let Ok(posts) = cards(&pool, 21).await else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    let mut html = String::with_capacity(16 * 1024);
    html.push_str(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"/><link rel=\"stylesheet\" href=\"/pkg/quire.css\"/>\
         <title>Quire</title></head><body><header class=\"site-header\"><div class=\"container header-row\">\
         <a href=\"/\" class=\"brand\">Quire</a><nav class=\"main-nav\"><a href=\"/\">Posts</a>\
         <a href=\"/login\">Sign in</a><a href=\"/register\" class=\"button small\">Register</a></nav></div></header>\
         <main class=\"container\"><section class=\"intro\"><h1>Latest posts</h1><form method=\"get\" action=\"/\" \
         class=\"filters\" role=\"search\"><input type=\"search\" name=\"q\"/><select name=\"category\">\
         <option value=\"\">All categories</option><option value=\"tech\">tech</option>\
         <option value=\"lifestyle\">lifestyle</option><option value=\"business\">business</option></select>\
         <input type=\"text\" name=\"tag\"/><button type=\"submit\">Filter</button></form></section><ul class=\"post-list\">",
    );
    for p in posts.iter().take(20) {
        html.push_str("<li class=\"card post-card\"><h2><a href=\"/posts/");
        escape(&mut html, &p.slug);
        html.push_str("\">");
        escape(&mut html, &p.title);
        html.push_str("</a></h2><p class=\"meta\"><span>");
        escape(&mut html, &p.author_name);
        let date = p.published_at.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
        let _ = write!(
            html,
            "</span> · <time>{date}</time> · <a href=\"/?category={0}\">{0}</a></p><p class=\"tags\">",
            p.category
        );
        for t in &p.tags {
            let _ = write!(html, "<a class=\"tag\" href=\"/?tag={t}\">#{t}</a>");
        }
        html.push_str("</p></li>");
    }
    html.push_str("</ul>");
    if posts.len() > 20 {
        html.push_str("<p class=\"pager\"><a href=\"/?cursor=next\">Older posts →</a></p>");
    }
    html.push_str("</main></body></html>");
    Html(html).into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list(State(pool): State<SqlitePool>, headers: HeaderMap, q: axum::extract::Query<ListQuery>) -> Response {
    if let Err(status) = caller(&pool, &headers).await {
        return status.into_response();
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    match newest(&pool, limit + 1).await {
        Ok(mut posts) => {
            let more = posts.len() as i64 > limit;
            posts.truncate(limit as usize);
            let next_cursor = more.then(|| posts.last().map(|p| p.id.to_string())).flatten();
            Json(Page { data: posts, next_cursor }).into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[derive(Deserialize)]
struct NewPost {
    title: String,
    body: String,
    category: String,
}

async fn create(State(pool): State<SqlitePool>, headers: HeaderMap, Json(b): Json<NewPost>) -> Response {
    let author = match caller(&pool, &headers).await {
        Ok(Some(id)) => id,
        Ok(None) => return StatusCode::UNAUTHORIZED.into_response(),
        Err(s) => return s.into_response(),
    };
    let now = Utc::now();
    let slug = format!("bare-{}", uuid::Uuid::new_v4().simple());
    let result: sqlx::Result<i64> = async {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO posts (author_id, title, slug, body, category, published, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6, 1) RETURNING id",
        )
        .bind(author)
        .bind(&b.title)
        .bind(&slug)
        .bind(&b.body)
        .bind(&b.category)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit_log (actor_id, action, entity_type, entity_id, detail, created_at) \
             VALUES ($1, 'post.create', 'post', $2, $3, $4)",
        )
        .bind(author)
        .bind(id)
        .bind(format!("{{\"slug\":\"{slug}\"}}"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }
    .await;
    match result {
        Ok(id) => {
            (StatusCode::CREATED, Json(serde_json::json!({ "id": id, "slug": slug, "title": b.title }))).into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().expect("usage: bare <sqlite file> <address>");
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3400".into());
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{file}"))
        .expect("a SQLite path")
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new().max_connections(16).connect_with(opts).await.expect("the database opens");
    let app = Router::new().route("/", get(front)).route("/api/v1/posts", get(list).post(create)).with_state(pool);
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("the address is free");
    axum::serve(listener, app).await.expect("serving");
}
