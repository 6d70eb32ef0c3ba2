//! Writing: the dashboard's list and the editor's create, update, publish, unpublish and delete.

use leptos::prelude::*;

use crate::models::{post::MyPostList, AppError, Post};
#[cfg(feature = "ssr")]
use crate::{models::PostContent, server_fns::ctx::Ctx, services::posts};

/// One page (50) of the signed-in user's posts, drafts included, as the dashboard lists them;
/// `cursor` is the previous page's `next_cursor`.
#[server(prefix = "/fn", endpoint = "my_posts")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn my_posts(cursor: Option<String>) -> Result<MyPostList, AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(posts::list_mine(&cx.state.db, &user, cursor.as_deref().filter(|c| !c.is_empty()), 50)).await
}

#[server(prefix = "/fn", endpoint = "post_for_edit")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn post_for_edit(id: i64) -> Result<Post, AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(posts::get_for_edit(&cx.state.db, &user, id)).await
}

/// Where a save sends the writer: a plain form by redirect, the editor island itself.
pub const AFTER_SAVE: &str = "/dashboard";

/// Creates a draft and opens the dashboard.
#[server(prefix = "/fn", endpoint = "create_post")]
pub async fn create_post(title: String, body: String, category: String, tags: String) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    let content = cx.check(PostContent::parse(&title, &body, &category, &tags))?;
    cx.call(posts::create(&cx.state.db, &user, content)).await?;
    cx.redirect(AFTER_SAVE);
    Ok(())
}

/// Saves an edit made on `version`; a newer save in between is a conflict, never overwritten.
#[server(prefix = "/fn", endpoint = "update_post")]
pub async fn update_post(
    id: i64,
    version: i64,
    title: String,
    body: String,
    category: String,
    tags: String,
) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    let content = cx.check(PostContent::parse(&title, &body, &category, &tags))?;
    cx.call(posts::update(&cx.state.db, &user, id, version, content)).await?;
    cx.redirect(AFTER_SAVE);
    Ok(())
}

#[server(prefix = "/fn", endpoint = "publish_post")]
pub async fn publish_post(id: i64) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(posts::publish(&cx.state.db, &cx.state.bus, &user, id)).await.map(|_| ())
}

#[server(prefix = "/fn", endpoint = "unpublish_post")]
pub async fn unpublish_post(id: i64) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(posts::unpublish(&cx.state.db, &user, id)).await.map(|_| ())
}

#[server(prefix = "/fn", endpoint = "delete_post")]
pub async fn delete_post(id: i64) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(posts::delete(&cx.state.db, &user, id)).await
}
