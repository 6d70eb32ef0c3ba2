//! Posts: writing, editing with optimistic locking, publishing within the plan's limit,
//! and deleting. Every change runs in one transaction with its audit entry.

use chrono::Utc;
use serde_json::json;

use crate::{
    db::{self, audit::Entry, posts::NewPost, Db, Tx},
    error::{Error, Result},
    models::{post::slugify, AppError, ErrorCode, Plan, Post, PostContent, User},
};

/// How many published posts a `free` account may hold at once.
pub const FREE_PUBLISHED_LIMIT: i64 = 3;

async fn audit(tx: &mut Tx, actor: &User, action: &str, post_id: i64, detail: serde_json::Value) -> Result<()> {
    let entry = Entry {
        actor_id: Some(actor.id),
        action,
        entity_type: "post",
        entity_id: post_id,
        detail: &detail,
        now: Utc::now(),
    };
    db::audit::append(tx.conn(), &entry).await?;
    Ok(())
}

async fn load(tx: &mut Tx, id: i64) -> Result<Post> {
    let row = db::posts::find_by_id(tx.conn(), id).await?.ok_or_else(|| Error::not_found("No such post."))?;
    let tags = db::posts::tags_of(tx.conn(), &[id]).await?.into_iter().map(|(_, t)| t).collect();
    Ok(row.into_post(tags))
}

/// Loads a post for a change by `actor`: only its author or an admin may change it, and
/// to anyone else a draft does not exist.
async fn load_for_change(tx: &mut Tx, actor: &User, id: i64) -> Result<Post> {
    let post = load(tx, id).await?;
    if post.author_id == actor.id || actor.is_admin() {
        Ok(post)
    } else if post.published {
        Err(Error::forbidden("Only the author or an administrator may change this post."))
    } else {
        Err(Error::not_found("No such post."))
    }
}

/// The first free slug: `base`, else `base-2`, `base-3`, …
async fn free_slug(tx: &mut Tx, title: &str) -> Result<String> {
    let base = slugify(title);
    let taken = db::posts::slugs_like(tx.conn(), &base).await?;
    if !taken.iter().any(|s| s == &base) {
        return Ok(base);
    }
    let mut n = 2;
    loop {
        let candidate = format!("{base}-{n}");
        if !taken.contains(&candidate) {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// Creates a draft by `author`.
pub async fn create(db: &Db, author: &User, content: PostContent) -> Result<Post> {
    let mut tx = db.begin().await?;
    let slug = free_slug(&mut tx, &content.title).await?;
    let new = NewPost { author_id: author.id, slug: &slug, content: &content, now: Utc::now() };
    let id = match db::posts::insert(tx.conn(), &new).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e, "posts_slug_key") => {
            return Err(Error::App(AppError::conflict("Another post took this title a moment ago; save again.")))
        }
        Err(e) => return Err(e.into()),
    };
    db::posts::set_tags(tx.conn(), id, &content.tags).await?;
    audit(&mut tx, author, "post.create", id, json!({ "slug": slug })).await?;
    let post = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(post)
}

/// Replaces a post's content if nobody saved since `expected_version` was loaded.
pub async fn update(db: &Db, actor: &User, id: i64, expected_version: i64, content: PostContent) -> Result<Post> {
    let mut tx = db.begin().await?;
    let current = load_for_change(&mut tx, actor, id).await?;
    if !db::posts::update_content(tx.conn(), id, expected_version, &content, Utc::now()).await? {
        return Err(stale(&current));
    }
    db::posts::set_tags(tx.conn(), id, &content.tags).await?;
    audit(&mut tx, actor, "post.update", id, json!({ "version": expected_version + 1 })).await?;
    let post = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(post)
}

fn stale(current: &Post) -> Error {
    Error::App(AppError::new(
        ErrorCode::Conflict,
        format!(
            "This post was changed at {} (now version {}) after you opened it. Reload to see the newer version.",
            current.updated_at.format("%Y-%m-%d %H:%M:%S UTC"),
            current.version
        ),
    ))
}

/// Publishes a post. A `free` author may hold at most [`FREE_PUBLISHED_LIMIT`] published posts.
pub async fn publish(db: &Db, actor: &User, id: i64) -> Result<Post> {
    let mut tx = db.begin().await?;
    let post = load_for_change(&mut tx, actor, id).await?;
    if post.published {
        return Ok(post);
    }
    let author_plan = if post.author_id == actor.id {
        actor.plan
    } else {
        db::users::find_by_id(tx.conn(), post.author_id).await?.map(|u| u.into_user().plan).unwrap_or_default()
    };
    if author_plan == Plan::Free
        && db::posts::count_published_by(tx.conn(), post.author_id).await? >= FREE_PUBLISHED_LIMIT
    {
        return Err(Error::App(AppError::forbidden(format!(
            "The free plan allows {FREE_PUBLISHED_LIMIT} published posts. Unpublish one, or upgrade to Pro."
        ))));
    }
    db::posts::set_published(tx.conn(), id, true, Utc::now()).await?;
    audit(&mut tx, actor, "post.publish", id, json!({})).await?;
    let post = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(post)
}

pub async fn unpublish(db: &Db, actor: &User, id: i64) -> Result<Post> {
    let mut tx = db.begin().await?;
    let post = load_for_change(&mut tx, actor, id).await?;
    if !post.published {
        return Ok(post);
    }
    db::posts::set_published(tx.conn(), id, false, Utc::now()).await?;
    audit(&mut tx, actor, "post.unpublish", id, json!({})).await?;
    let post = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(post)
}

pub async fn delete(db: &Db, actor: &User, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let post = load_for_change(&mut tx, actor, id).await?;
    db::posts::delete(tx.conn(), id).await?;
    audit(&mut tx, actor, "post.delete", id, json!({ "slug": post.slug, "title": post.title })).await?;
    tx.commit().await?;
    Ok(())
}

/// A post as `viewer` may see it: drafts only for their author and admins.
pub async fn get_by_slug(db: &Db, viewer: Option<&User>, slug: &str) -> Result<Post> {
    let mut conn = db.acquire().await?;
    let row = db::posts::find_by_slug(conn.conn(), slug).await?.ok_or_else(|| Error::not_found("No such post."))?;
    let visible = row.published || viewer.is_some_and(|v| v.id == row.author_id || v.is_admin());
    if !visible {
        return Err(Error::not_found("No such post."));
    }
    let tags = db::posts::tags_of(conn.conn(), &[row.id]).await?.into_iter().map(|(_, t)| t).collect();
    Ok(row.into_post(tags))
}

/// Published posts matching `query`, ranked, with their tags (two queries whatever the count).
pub async fn search(db: &Db, query: &str, limit: i64) -> Result<Vec<Post>> {
    let mut conn = db.acquire().await?;
    let rows = db::posts::search_published(conn.conn(), query, limit.clamp(1, 100)).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let tags = db::posts::tags_of(conn.conn(), &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mine = tags.iter().filter(|(id, _)| *id == row.id).map(|(_, t)| t.clone()).collect();
            row.into_post(mine)
        })
        .collect())
}
