//! Reading posts: single posts as a viewer may see them, cursor pages of the public list
//! (or an author's drafts), search, tags and front-page cards.

use chrono::Utc;

use super::{load_for_change, one_with_tags, visible_to};
use crate::{
    db::{self, Db},
    error::{Error, Result},
    models::{Post, User},
};

/// A post as `viewer` may see it: drafts only for their author and admins.
pub async fn get_by_slug(db: &Db, viewer: Option<&User>, slug: &str) -> Result<Post> {
    let mut conn = db.acquire().await?;
    let row = db::posts::find_by_slug(conn.conn(), slug).await?.ok_or_else(|| Error::not_found("No such post."))?;
    if !visible_to(&row, viewer) {
        return Err(Error::not_found("No such post."));
    }
    one_with_tags(conn.conn(), row).await
}

/// Published posts matching `query`, ranked, with their tags (two queries whatever the count).
pub async fn search(db: &Db, query: &str, limit: i64) -> Result<Vec<Post>> {
    let mut conn = db.acquire().await?;
    let rows = db::posts::search_published(conn.conn(), query, limit.clamp(1, 100)).await?;
    with_tags(conn.conn(), rows).await
}

pub use db::posts::ListFilter;

/// Attaches tags to rows with one extra query for the whole page.
pub(super) async fn with_tags(conn: db::Conn<'_>, rows: Vec<db::posts::PostRow>) -> Result<Vec<Post>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let tags = db::posts::tags_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mine = tags.iter().filter(|(id, _)| *id == row.id).map(|(_, t)| t.clone()).collect();
            row.into_post(mine)
        })
        .collect())
}

/// An opaque keyset cursor over the order of the list it came from: published lists are
/// ordered by publication time, draft lists by creation time (a draft that was once
/// published keeps its old `published_at`, which must not steer the draft walk). The
/// list's kind travels in the cursor, so a cursor from one list is refused by the other.
pub fn encode_cursor(post: &Post, drafts: bool) -> Option<String> {
    cursor_at(drafts, post.created_at, post.published_at, post.id)
}

fn cursor_at(
    drafts: bool,
    created_at: chrono::DateTime<Utc>,
    published_at: Option<chrono::DateTime<Utc>>,
    id: i64,
) -> Option<String> {
    Some(if drafts { encode_at('d', created_at, id) } else { encode_at('p', published_at?, id) })
}

/// `kind` names the list (`p` published, `d` drafts, `m` an author's own posts).
fn encode_at(kind: char, at: chrono::DateTime<Utc>, id: i64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}.{}.{id}", at.timestamp_micros()))
}

/// A keyset page from `limit + 1` rows: the first `limit`, and whether another page exists
/// (the extra row says so).
fn one_page<T>(mut rows: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    (rows, more)
}

/// The earliest and latest instants a cursor may name: what both databases store
/// (PostgreSQL's range is narrower than chrono's, and out-of-range values are errors there).
fn cursor_instant(micros: i64) -> Option<chrono::DateTime<Utc>> {
    const MAX_MICROS: i64 = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z
    (0..=MAX_MICROS).contains(&micros).then(|| chrono::DateTime::from_timestamp_micros(micros)).flatten()
}

pub fn decode_cursor(cursor: &str, drafts: bool) -> Result<(chrono::DateTime<Utc>, i64)> {
    decode_at(cursor, if drafts { 'd' } else { 'p' })
}

fn decode_at(cursor: &str, kind: char) -> Result<(chrono::DateTime<Utc>, i64)> {
    use base64::Engine as _;
    let bad = || Error::bad_request("The cursor is not valid; start again from the first page.");
    if cursor.len() > 128 {
        return Err(bad());
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = raw.splitn(3, '.');
    let (Some(found), Some(micros), Some(id)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    if found.len() != 1 || !found.starts_with(kind) {
        return Err(bad());
    }
    let at = cursor_instant(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    if id <= 0 {
        return Err(bad());
    }
    Ok((at, id))
}

/// A post as `viewer` may see it, by id.
pub async fn get(db: &Db, viewer: Option<&User>, id: i64) -> Result<Post> {
    let mut conn = db.acquire().await?;
    let row = db::posts::find_by_id(conn.conn(), id).await?.ok_or_else(|| Error::not_found("No such post."))?;
    if !visible_to(&row, viewer) {
        return Err(Error::not_found("No such post."));
    }
    one_with_tags(conn.conn(), row).await
}

/// Tags in use on published posts, with their post counts.
pub async fn tags(db: &Db) -> Result<Vec<crate::models::post::TagCount>> {
    let mut conn = db.acquire().await?;
    let rows = db::posts::tag_counts(conn.conn(), 1000).await?;
    Ok(rows.into_iter().map(|(name, posts)| crate::models::post::TagCount { name, posts }).collect())
}

/// A page of published posts (or the filter's drafts), newest first: two queries whatever the page size.
pub async fn list_published(
    db: &Db,
    filter: &ListFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<crate::models::post::PostList> {
    let limit = limit.clamp(1, 100);
    let drafts = filter.draft_author().is_some();
    let after = cursor.map(|c| decode_cursor(c, drafts)).transpose()?;
    let mut conn = db.acquire().await?;
    let (rows, more) = one_page(db::posts::list_published(conn.conn(), filter, after, limit + 1).await?, limit);
    let items = with_tags(conn.conn(), rows).await?;
    let next_cursor = if more { items.last().and_then(|p| encode_cursor(p, drafts)) } else { None };
    Ok(crate::models::post::PostList { items, next_cursor })
}

/// A page of published posts' cards (no bodies), newest first: two queries whatever the page size.
pub async fn list_cards(
    db: &Db,
    filter: &ListFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<crate::models::post::CardList> {
    let limit = limit.clamp(1, 100);
    let drafts = filter.draft_author().is_some();
    let after = cursor.map(|c| decode_cursor(c, drafts)).transpose()?;
    let mut conn = db.acquire().await?;
    let (rows, more) = one_page(db::posts::list_cards(conn.conn(), filter, after, limit + 1).await?, limit);
    let next_cursor =
        if more { rows.last().and_then(|r| cursor_at(drafts, r.created_at, r.published_at, r.id)) } else { None };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let tags = db::posts::tags_of(conn.conn(), &ids).await?;
    let items = rows
        .into_iter()
        .map(|r| crate::models::post::PostCard {
            tags: tags.iter().filter(|(id, _)| *id == r.id).map(|(_, t)| t.clone()).collect(),
            id: r.id,
            author_name: r.author_name,
            title: r.title,
            slug: r.slug,
            category: crate::models::Category::parse(&r.category).unwrap_or_default(),
            published_at: r.published_at,
        })
        .collect();
    Ok(crate::models::post::CardList { items, next_cursor })
}

/// A post's card.
pub fn card(post: Post) -> crate::models::post::PostCard {
    crate::models::post::PostCard {
        id: post.id,
        author_name: post.author_name,
        title: post.title,
        slug: post.slug,
        category: post.category,
        tags: post.tags,
        published_at: post.published_at,
    }
}

/// A page of the author's own posts, drafts included, most recently changed first (the
/// dashboard): one query whatever the page size or however many posts they wrote.
pub async fn list_mine(
    db: &Db,
    author: &User,
    cursor: Option<&str>,
    limit: i64,
) -> Result<crate::models::post::MyPostList> {
    let limit = limit.clamp(1, 100);
    let before = cursor.map(|c| decode_at(c, 'm')).transpose()?;
    let mut conn = db.acquire().await?;
    let (items, more) = one_page(db::posts::list_by_author(conn.conn(), author.id, before, limit + 1).await?, limit);
    let next_cursor = if more { items.last().map(|p| encode_at('m', p.updated_at, p.id)) } else { None };
    Ok(crate::models::post::MyPostList { items, next_cursor })
}

/// A post its author (or an admin) is about to edit.
pub async fn get_for_edit(db: &Db, actor: &User, id: i64) -> Result<Post> {
    let mut tx = db.begin().await?;
    let post = load_for_change(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(post)
}
