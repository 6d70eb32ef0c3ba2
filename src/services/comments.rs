//! Comments and likes on posts a user can see.

use chrono::Utc;
use serde_json::json;

use super::{
    events::{Bus, Event},
    notifications,
};
use crate::{
    db::{self, audit::Entry, Db},
    error::{Error, Result},
    models::{post::Comment, PostStats, User},
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

/// Adds a comment (already validated with `models::post::parse_comment`). The post's author
/// is notified (`comment.created`) in the same transaction, and viewers of the post hear of it.
pub async fn add(db: &Db, bus: &Bus, author: &User, post_id: i64, body: &str) -> Result<Comment> {
    let mut tx = db.begin().await?;
    let post = ensure_visible(tx.conn(), Some(author), post_id).await?;
    let id = db::comments::insert(tx.conn(), post_id, author.id, body, Utc::now()).await?;
    let row = db::comments::find(tx.conn(), id).await?.ok_or_else(|| Error::internal_msg("comment vanished"))?;
    let raised = if post.author_id != author.id {
        let excerpt: String = body.chars().take(140).collect();
        let data = json!({
            "post_id": post_id, "post_title": post.title, "post_slug": post.slug, "comment_id": id,
            "author_name": author.name, "excerpt": excerpt, "url": format!("/posts/{}#comment-{id}", post.slug),
        });
        Some(notifications::raise(tx.conn(), post.author_id, "comment.created", &data).await?)
    } else {
        None
    };
    tx.commit().await?;
    notifications::deliver(bus, raised);
    bus.send(Event::Comment { post_id, comment_id: id });
    Ok(row)
}

pub async fn list(db: &Db, viewer: Option<&User>, post_id: i64) -> Result<Vec<Comment>> {
    let mut conn = db.acquire().await?;
    ensure_visible(conn.conn(), viewer, post_id).await?;
    Ok(db::comments::for_post(conn.conn(), post_id).await?)
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
    let detail = json!({ "post_id": comment.post_id });
    let entry = Entry {
        actor_id: Some(actor.id),
        action: "comment.delete",
        entity_type: "comment",
        entity_id: comment_id,
        detail: &detail,
        now: Utc::now(),
    };
    db::audit::append(tx.conn(), &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Likes (`true`) or unlikes a post; both are idempotent. Returns the new stats. A new like
/// of someone else's post notifies its author (`post.liked`).
pub async fn set_like(db: &Db, bus: &Bus, user: &User, post_id: i64, liked: bool) -> Result<PostStats> {
    let mut tx = db.begin().await?;
    let post = ensure_visible(tx.conn(), Some(user), post_id).await?;
    let mut raised = None;
    if liked {
        if db::comments::like(tx.conn(), post_id, user.id, Utc::now()).await? && post.author_id != user.id {
            let data = json!({
                "post_id": post_id, "post_title": post.title, "post_slug": post.slug,
                "user_name": user.name, "url": format!("/posts/{}", post.slug),
            });
            raised = Some(notifications::raise(tx.conn(), post.author_id, "post.liked", &data).await?);
        }
    } else {
        db::comments::unlike(tx.conn(), post_id, user.id).await?;
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
