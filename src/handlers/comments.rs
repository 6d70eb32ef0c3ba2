//! Comments, likes and tags.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Id, Json, Query};
use crate::{
    error::{Error, Result},
    middleware::auth::{Caller, Writer},
    middleware::problem::Problem,
    models::{
        list::page_size,
        post::{CommentBody, TagCount, COMMENTS_PAGE},
        Comment, PostStats,
    },
    services::{comments, posts},
    state::AppState,
};

/// A page of comments.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    pub data: Vec<Comment>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Paging for a post's comments.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommentListQuery {
    /// Page size, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "super::extract::present")]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

/// A post's comments, oldest first, in cursor pages.
#[utoipa::path(get, path = "/api/v1/posts/{id}/comments", tag = "comments",
    params(("id" = i64, Path, minimum = 1), CommentListQuery),
    responses(
        (status = 200, description = "A page of comments", body = CommentList),
        (status = 404, description = "No such post", body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Id(id): Id,
    Query(q): Query<CommentListQuery>,
) -> Result<axum::Json<CommentList>> {
    let limit = page_size("limit", q.limit, COMMENTS_PAGE)?;
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    let page = comments::list(&state.db, caller.as_ref().map(|c| &c.user), id, cursor, limit).await?;
    Ok(axum::Json(CommentList { data: page.items, next_cursor: page.next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// 1–5,000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

/// Comment on a post.
#[utoipa::path(post, path = "/api/v1/posts/{id}/comments", tag = "comments", request_body = NewComment,
    params(("id" = i64, Path, minimum = 1), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "Created", body = Comment),
        (status = 403, description = "Read-only token", body = Problem),
        (status = 404, description = "No such post", body = Problem),
        (status = 409, description = "Same Idempotency-Key still running", body = Problem),
        (status = 422, description = "Invalid body, or Idempotency-Key reused", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Id(id): Id,
    Json(b): Json<NewComment>,
) -> Result<(StatusCode, axum::Json<Comment>)> {
    let body = CommentBody::parse(&b.body).map_err(Error::validation)?;
    let comment = comments::add(&state.db, &state.bus, &caller.user, id, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(comment)))
}

/// Delete a comment (its author or an admin).
#[utoipa::path(delete, path = "/api/v1/comments/{id}", tag = "comments", params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not yours, or read-only token", body = Problem),
        (status = 404, description = "No such comment", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn delete(State(state): State<AppState>, Writer(caller): Writer, Id(id): Id) -> Result<StatusCode> {
    comments::delete(&state.db, &caller.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Like a post (idempotent).
#[utoipa::path(put, path = "/api/v1/posts/{id}/like", tag = "likes", params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Liked; the post's counts", body = PostStats),
        (status = 403, description = "Read-only token", body = Problem),
        (status = 404, description = "No such post", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn like(State(state): State<AppState>, Writer(caller): Writer, Id(id): Id) -> Result<axum::Json<PostStats>> {
    Ok(axum::Json(comments::set_like(&state.db, &state.bus, &caller.user, id, true).await?))
}

/// Take a like back (idempotent).
#[utoipa::path(delete, path = "/api/v1/posts/{id}/like", tag = "likes", params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Not liked; the post's counts", body = PostStats),
        (status = 403, description = "Read-only token", body = Problem),
        (status = 404, description = "No such post", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn unlike(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Id(id): Id,
) -> Result<axum::Json<PostStats>> {
    Ok(axum::Json(comments::set_like(&state.db, &state.bus, &caller.user, id, false).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagList {
    pub data: Vec<TagCount>,
}

/// Tags on published posts, with post counts (most used first).
#[utoipa::path(get, path = "/api/v1/tags", tag = "tags",
    responses((status = 200, description = "The tags", body = TagList)))]
pub async fn tags(State(state): State<AppState>) -> Result<axum::Json<TagList>> {
    Ok(axum::Json(TagList { data: posts::tags(&state.db).await? }))
}
