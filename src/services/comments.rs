//! Comments and likes on posts a user can see. Each change runs in one transaction with its
//! audit entry and the notification it raises.

use chrono::Utc;
use serde_json::json;

use super::{
    events::{Bus, Event},
    notifications,
};
use crate::{
    db::{self, Db, Tx},
    error::{Error, Result},
    models::{
        list::PAGE_MAX,
        post::{Comment, CommentBody},
        CommentPage, CommentWindow, NotificationKind, PostStats, User,
    },
};

/// The post must exist and be visible to `viewer` (drafts only to their author and admins).
async fn ensure_visible(conn: db::Conn<'_>, viewer: Option<&User>, post_id: i64) -> Result<db::posts::PostRow> {
    let row = db::posts::find_by_id(conn, post_id).await?.ok_or_else(|| Error::not_found("No such post."))?;
    if crate::services::posts::visible_to(&row, viewer) {
        Ok(row)
    } else {
        Err(Error::not_found("No such post."))
    }
}

async fn audit(
    tx: &mut Tx,
    actor: &User,
    action: &str,
    entity_type: &str,
    id: i64,
    detail: &serde_json::Value,
) -> Result<()> {
    super::audit::record(tx, Some(actor), action, (entity_type, id), detail).await
}

/// Adds a comment. The post's author is notified (`comment.created`) in the same transaction,
/// and viewers of the post hear of it.
pub async fn add(db: &Db, bus: &Bus, author: &User, post_id: i64, body: &CommentBody) -> Result<Comment> {
    let body = body.as_str();
    let mut tx = db.begin().await?;
    let post = ensure_visible(tx.conn(), Some(author), post_id).await?;
    let id = db::comments::insert(tx.conn(), post_id, author.id, body, Utc::now()).await?;
    let row = db::comments::find(tx.conn(), id).await?.ok_or_else(|| Error::internal_msg("comment vanished"))?;
    audit(&mut tx, author, "comment.create", "comment", id, &json!({ "post_id": post_id })).await?;
    let raised = if post.author_id != author.id {
        let excerpt: String = body.chars().take(140).collect();
        let data = json!({
            "post_id": post_id, "post_title": post.title, "post_slug": post.slug, "comment_id": id,
            "author_name": author.name, "excerpt": excerpt, "url": format!("/posts/{}#comment-{id}", post.slug),
        });
        Some(notifications::raise(tx.conn(), post.author_id, NotificationKind::CommentCreated, &data).await?)
    } else {
        None
    };
    tx.commit().await?;
    notifications::deliver(bus, raised);
    bus.send(Event::Comment { post_id, comment_id: id });
    Ok(row)
}

/// An opaque comment cursor: the id of the comment a page stops at.
fn encode_cursor(id: i64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("c.{id}"))
}

fn decode_cursor(cursor: &str) -> Result<i64> {
    use base64::Engine as _;
    let bad = || Error::bad_request("The comment cursor is not valid; start again from the first page.");
    if cursor.len() > 64 {
        return Err(bad());
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = std::str::from_utf8(&raw).map_err(|_| bad())?;
    match raw.strip_prefix("c.").and_then(|id| id.parse::<i64>().ok()) {
        Some(id) if id > 0 => Ok(id),
        _ => Err(bad()),
    }
}

/// A page of a post's comments, oldest first, after `cursor` (two statements whatever the size).
pub async fn list(
    db: &Db,
    viewer: Option<&User>,
    post_id: i64,
    cursor: Option<&str>,
    limit: i64,
) -> Result<CommentPage> {
    let limit = limit.clamp(1, PAGE_MAX);
    let after = cursor.map(decode_cursor).transpose()?.unwrap_or(0);
    let mut conn = db.acquire().await?;
    ensure_visible(conn.conn(), viewer, post_id).await?;
    let mut items = db::comments::page_after(conn.conn(), post_id, after, limit + 1).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = if more { items.last().map(|c| encode_cursor(c.id)) } else { None };
    Ok(CommentPage { items, next_cursor })
}

/// The newest `limit` comments before `before` (or the newest of all), oldest first, with
/// the post's comment count and where the comments before them start.
pub async fn window(
    db: &Db,
    viewer: Option<&User>,
    post_id: i64,
    before: Option<&str>,
    limit: i64,
) -> Result<CommentWindow> {
    let limit = limit.clamp(1, PAGE_MAX);
    let before = before.map(decode_cursor).transpose()?.unwrap_or(i64::MAX);
    let mut conn = db.acquire().await?;
    ensure_visible(conn.conn(), viewer, post_id).await?;
    let mut items = db::comments::page_before(conn.conn(), post_id, before, limit + 1).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    items.reverse();
    let older = if more { items.first().map(|c| encode_cursor(c.id)) } else { None };
    let (_, total, _) = db::comments::stats(conn.conn(), post_id, None).await?;
    Ok(CommentWindow { items, total, older })
}

/// Deletes a comment: its author or an admin may; recorded in the audit log in the same transaction.
pub async fn delete(db: &Db, actor: &User, comment_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let comment =
        db::comments::find(tx.conn(), comment_id).await?.ok_or_else(|| Error::not_found("No such comment."))?;
    if comment.author_id != actor.id && !actor.is_admin() {
        return Err(Error::forbidden("Only the comment's author or an administrator may delete it."));
    }
    db::comments::delete(tx.conn(), comment_id).await?;
    audit(&mut tx, actor, "comment.delete", "comment", comment_id, &json!({ "post_id": comment.post_id })).await?;
    tx.commit().await?;
    Ok(())
}

/// Likes (`true`) or unlikes a post; both are idempotent. Returns the new stats. A new like
/// of someone else's post notifies its author (`post.liked`), at most once while unread:
/// liking, unliking and liking again does not flood the author.
pub async fn set_like(db: &Db, bus: &Bus, user: &User, post_id: i64, liked: bool) -> Result<PostStats> {
    let mut tx = db.begin().await?;
    let post = ensure_visible(tx.conn(), Some(user), post_id).await?;
    let mut raised = None;
    let changed = if liked {
        db::comments::like(tx.conn(), post_id, user.id, Utc::now()).await?
    } else {
        db::comments::unlike(tx.conn(), post_id, user.id).await?
    };
    if changed {
        let action = if liked { "post.like" } else { "post.unlike" };
        audit(&mut tx, user, action, "post", post_id, &json!({})).await?;
    }
    if liked && changed && post.author_id != user.id {
        let data = json!({
            "post_id": post_id, "post_title": post.title, "post_slug": post.slug,
            "user_name": user.name, "url": format!("/posts/{}", post.slug),
        });
        let key = format!("post.liked:{post_id}:{}", user.id);
        raised = notifications::raise_once(tx.conn(), post.author_id, NotificationKind::PostLiked, &key, &data).await?;
    }
    let stats = stats_on(tx.conn(), post_id, Some(user)).await?;
    tx.commit().await?;
    notifications::deliver(bus, raised);
    Ok(stats)
}

pub async fn stats(db: &Db, viewer: Option<&User>, post_id: i64) -> Result<PostStats> {
    let mut conn = db.acquire().await?;
    stats_on(conn.conn(), post_id, viewer).await
}

async fn stats_on(conn: db::Conn<'_>, post_id: i64, viewer: Option<&User>) -> Result<PostStats> {
    let (likes, comments, liked_by_me) = db::comments::stats(conn, post_id, viewer.map(|v| v.id)).await?;
    Ok(PostStats { likes, comments, liked_by_me })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_cursors_round_trip_and_refuse_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        for bad in ["", "not base64!", "Yy4w", "eA", &"A".repeat(100)] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
