//! Reading posts, commenting and liking from the web UI.

use leptos::prelude::*;

use crate::models::{post::CardList, post::PostView, AppError, CommentWindow, PostStats};
#[cfg(feature = "ssr")]
use crate::{
    error::Error,
    models::{
        list::{ListFilter, PAGE_DEFAULT},
        post::{CommentBody, COMMENTS_PAGE},
        Category,
    },
    server_fns::ctx::Ctx,
    services::{comments, post_page, posts},
};

/// Published posts' cards for the front page: a search (`q`), or a filtered page after `cursor`.
#[server(prefix = "/fn", endpoint = "list_posts")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn list_posts(
    q: Option<String>,
    category: Option<String>,
    tag: Option<String>,
    cursor: Option<String>,
) -> Result<CardList, AppError> {
    let cx = Ctx::get()?;
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    let category = match category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(Category::parse(c).ok_or_else(|| cx.fail(Error::bad_request("Unknown category.")))?),
        None => None,
    };
    let tags = tag.as_deref().filter(|_| !blank(&tag));
    let filter = cx.check(ListFilter::parse(category, tags, None, q.as_deref()))?;
    if let Some(q) = filter.q() {
        let items = cx.call(posts::search(&cx.state.db, q, PAGE_DEFAULT)).await?;
        return Ok(CardList { items: items.into_iter().map(posts::card).collect(), next_cursor: None });
    }
    let cursor = cursor.filter(|c| !c.trim().is_empty());
    cx.call(posts::list_cards(&cx.state.db, &filter, cursor.as_deref(), PAGE_DEFAULT)).await
}

/// One post with its rendered body, stats and its newest comments (or those before
/// `before`, a cursor from "older comments"); 404 for drafts of others.
#[server(prefix = "/fn", endpoint = "get_post")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn get_post(slug: String, before: Option<String>) -> Result<PostView, AppError> {
    let cx = Ctx::get()?;
    let viewer = cx.user().await?;
    cx.call(post_page::view(&cx.state.db, viewer.as_ref(), &slug, before.as_deref())).await
}

#[server(prefix = "/fn", endpoint = "add_comment")]
pub async fn add_comment(post_id: i64, body: String) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    let body = cx.check(CommentBody::parse(&body))?;
    cx.call(comments::add(&cx.state.db, &cx.state.bus, &user, post_id, &body)).await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "delete_comment")]
pub async fn delete_comment(id: i64) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(comments::delete(&cx.state.db, &user, id)).await
}

/// Likes (`liked = true`) or unlikes a post.
#[server(prefix = "/fn", endpoint = "set_like")]
pub async fn set_like(post_id: i64, liked: bool) -> Result<PostStats, AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(comments::set_like(&cx.state.db, &cx.state.bus, &user, post_id, liked)).await
}

/// The post page's window of comments, refreshed live: the newest ones, or those before `before`.
#[server(prefix = "/fn", endpoint = "post_comments")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn post_comments(post_id: i64, before: Option<String>) -> Result<CommentWindow, AppError> {
    let cx = Ctx::get()?;
    let viewer = cx.user().await?;
    let before = before.filter(|b| !b.is_empty());
    cx.call(comments::window(&cx.state.db, viewer.as_ref(), post_id, before.as_deref(), COMMENTS_PAGE)).await
}
