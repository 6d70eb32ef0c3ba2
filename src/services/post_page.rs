//! What a post's page shows, read in one call: the post (drafts only for their author and
//! administrators), its rendered body, its stats and a window of its comments.

use super::{comments, markdown, posts};
use crate::{
    db::Db,
    error::Result,
    models::{post::COMMENTS_PAGE, PostView, User},
};

/// The page of the post at `slug` for `viewer`, with the newest comments or those before
/// `before` (a cursor from "older comments"); 404 for others' drafts.
pub async fn view(db: &Db, viewer: Option<&User>, slug: &str, before: Option<&str>) -> Result<PostView> {
    let post = posts::get_by_slug(db, viewer, slug).await?;
    let stats = comments::stats(db, viewer, post.id).await?;
    let before = before.filter(|b| !b.is_empty());
    let list = comments::window(db, viewer, post.id, before, COMMENTS_PAGE).await?;
    let html = markdown::render(&post.body);
    Ok(PostView {
        post,
        html,
        stats,
        comments: list,
        viewer_id: viewer.map(|v| v.id),
        viewer_is_admin: viewer.is_some_and(|v| v.is_admin()),
    })
}
