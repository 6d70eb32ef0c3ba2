//! `/api/v1/posts…`: the post collection (cursor pages, filters), single posts with
//! ETags and `If-Match`-guarded writes, and the v2 list envelope.

use axum::{extract::State, http::StatusCode, response::Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{precondition, versioned_json, Id, IfMatch, Json, Query};
use crate::{
    error::{Error, Result},
    middleware::auth::{Caller, Writer},
    models::{
        list::{page_size, ListFilter, PAGE_DEFAULT},
        post::ContentPatch,
        Category, Post, PostContent,
    },
    services::posts::{self, ContentChange},
    state::AppState,
};

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PostStatus {
    Published,
    Draft,
}

/// Filters and paging for the post list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostListQuery {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "super::extract::present")]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    #[serde(default, deserialize_with = "super::extract::present")]
    pub category: Option<Category>,
    /// Posts carrying every given tag; repeat the parameter: `?tag=a&tag=b`.
    #[serde(default)]
    #[param(max_items = 10)]
    pub tag: Vec<String>,
    /// Author's user id.
    #[param(minimum = 1)]
    #[serde(default, deserialize_with = "super::extract::present")]
    pub author: Option<i64>,
    /// Full-text search over titles and bodies.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `draft`: the caller's own drafts (requires authentication). Default `published`.
    #[serde(default, deserialize_with = "super::extract::present")]
    pub status: Option<PostStatus>,
}

/// A page of posts (v1 envelope).
#[derive(Debug, Serialize, ToSchema)]
pub struct PostPage {
    pub data: Vec<Post>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageInfo {
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// A page of posts (v2 envelope).
#[derive(Debug, Serialize, ToSchema)]
pub struct PostPageV2 {
    pub items: Vec<Post>,
    pub page_info: PageInfo,
}

/// The page a list query asks for, checked (400 for bad values).
async fn page(state: &AppState, caller: Option<&Caller>, q: PostListQuery) -> Result<crate::models::post::PostList> {
    let limit = page_size("limit", q.limit, PAGE_DEFAULT)?;
    let mut filter = ListFilter::parse(q.category, q.tag.iter().map(String::as_str), q.author, q.q.as_deref())?;
    if q.status == Some(PostStatus::Draft) {
        let Some(c) = caller else {
            return Err(Error::unauthorized("Sign in (or send a token) to list your drafts."));
        };
        filter = filter.drafts_of(c.user.id);
    }
    posts::list_published(&state.db, &filter, q.cursor.as_deref().filter(|c| !c.is_empty()), limit).await
}

/// List published posts (newest first), or the caller's drafts.
#[utoipa::path(get, path = "/api/v1/posts", tag = "posts", params(PostListQuery),
    responses((status = 200, description = "A page of posts", body = PostPage)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Query(q): Query<PostListQuery>,
) -> Result<axum::Json<PostPage>> {
    let list = page(&state, caller.as_ref(), q).await?;
    Ok(axum::Json(PostPage { data: list.items, next_cursor: list.next_cursor }))
}

/// List posts with the v2 envelope.
#[utoipa::path(get, path = "/api/v2/posts", tag = "posts", params(PostListQuery),
    responses((status = 200, description = "A page of posts", body = PostPageV2)))]
pub async fn list_v2(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Query(q): Query<PostListQuery>,
) -> Result<axum::Json<PostPageV2>> {
    let list = page(&state, caller.as_ref(), q).await?;
    let has_more = list.next_cursor.is_some();
    Ok(axum::Json(PostPageV2 { items: list.items, page_info: PageInfo { next_cursor: list.next_cursor, has_more } }))
}

/// A new post's content.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPostBody {
    /// 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Markdown, 1–100,000 characters.
    #[schema(min_length = 1, max_length = 100000)]
    pub body: String,
    #[schema(value_type = Category)]
    pub category: String,
    /// 0–10 tags of 1–32 characters.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub tags: Vec<String>,
    /// Publish at once (subject to the plan's limit). Default false: a draft.
    #[serde(default)]
    pub published: Option<bool>,
}

fn content(title: &str, body: &str, category: &str, tags: &[String]) -> Result<PostContent> {
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    PostContent::parse_parts(title, body, category, &tags).map_err(Error::validation)
}

/// Create a post (a draft unless `published` is true).
#[utoipa::path(post, path = "/api/v1/posts", tag = "posts", request_body = NewPostBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "Created", body = Post,
            headers(("ETag" = String, description = "The version"), ("Location" = String))),
        (status = 403, description = "Read-only token, or the plan's limit", body = crate::middleware::problem::Problem),
        (status = 409, description = "Same Idempotency-Key still running", body = crate::middleware::problem::Problem),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused", body = crate::middleware::problem::Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Json(b): Json<NewPostBody>,
) -> Result<Response> {
    let c = content(&b.title, &b.body, &b.category, &b.tags)?;
    let post = posts::create_with(&state.db, &state.bus, &caller.user, c, b.published == Some(true)).await?;
    let location = format!("/api/v1/posts/{}", post.id);
    let draft = !post.published;
    let mut res = versioned_json(StatusCode::CREATED, post.version, post, Some(location));
    if draft {
        res.extensions_mut().insert(crate::middleware::http_cache::PublicUnchanged);
    }
    Ok(res)
}

/// Get a post: public when published, else only for its author and admins.
#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "posts", params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "The post", body = Post, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such post", body = crate::middleware::problem::Problem)))]
pub async fn show(State(state): State<AppState>, caller: Option<Caller>, Id(id): Id) -> Result<Response> {
    let post = posts::get(&state.db, caller.as_ref().map(|c| &c.user), id).await?;
    Ok(versioned(StatusCode::OK, post))
}

/// A whole replacement of a post's content.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplacePostBody {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 100000)]
    pub body: String,
    #[schema(value_type = Category)]
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub published: Option<bool>,
}

/// Some fields of a post.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchPostBody {
    pub title: Option<String>,
    pub body: Option<String>,
    #[schema(value_type = Option<Category>)]
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub published: Option<bool>,
}

/// Replace a post (requires `If-Match` with its current ETag).
#[utoipa::path(put, path = "/api/v1/posts/{id}", tag = "posts", request_body = ReplacePostBody,
    params(("id" = i64, Path, minimum = 1), ("If-Match" = String, Header, description = "The ETag you read")),
    responses(
        (status = 200, description = "Saved", body = Post, headers(("ETag" = String))),
        (status = 403, description = "Not yours, or read-only token", body = crate::middleware::problem::Problem),
        (status = 404, description = "No such post", body = crate::middleware::problem::Problem),
        (status = 412, description = "Stale: `current_version` says what it is now", body = crate::middleware::problem::Problem),
        (status = 422, description = "Invalid fields", body = crate::middleware::problem::Problem),
        (status = 428, description = "If-Match missing", body = crate::middleware::problem::Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Id(id): Id,
    if_match: Result<IfMatch, Error>,
    Json(b): Json<ReplacePostBody>,
) -> Result<Response> {
    // The body's problems are reported before the precondition's.
    let c = content(&b.title, &b.body, &b.category, &b.tags)?;
    let IfMatch(version) = if_match?;
    let post = posts::edit(&state.db, &state.bus, &caller.user, id, version, ContentChange::Whole(c), b.published)
        .await
        .map_err(precondition)?;
    Ok(versioned(StatusCode::OK, post))
}

/// Change some fields of a post (requires `If-Match`).
#[utoipa::path(patch, path = "/api/v1/posts/{id}", tag = "posts", request_body = PatchPostBody,
    params(("id" = i64, Path, minimum = 1), ("If-Match" = String, Header, description = "The ETag you read"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "Saved", body = Post, headers(("ETag" = String))),
        (status = 403, description = "Not yours, or read-only token", body = crate::middleware::problem::Problem),
        (status = 404, description = "No such post", body = crate::middleware::problem::Problem),
        (status = 409, description = "Same Idempotency-Key still running", body = crate::middleware::problem::Problem),
        (status = 412, description = "Stale: `current_version` says what it is now", body = crate::middleware::problem::Problem),
        (status = 422, description = "Invalid fields", body = crate::middleware::problem::Problem),
        (status = 428, description = "If-Match missing", body = crate::middleware::problem::Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Id(id): Id,
    if_match: Result<IfMatch, Error>,
    Json(b): Json<PatchPostBody>,
) -> Result<Response> {
    // The body's problems are reported before the precondition's; the merge with the post as
    // it is happens in the edit's own transaction.
    let tags: Option<Vec<&str>> = b.tags.as_ref().map(|t| t.iter().map(String::as_str).collect());
    let patch = ContentPatch::parse(b.title.as_deref(), b.body.as_deref(), b.category.as_deref(), tags.as_deref())
        .map_err(Error::validation)?;
    let IfMatch(version) = if_match?;
    let post = posts::edit(&state.db, &state.bus, &caller.user, id, version, ContentChange::Patch(patch), b.published)
        .await
        .map_err(precondition)?;
    Ok(versioned(StatusCode::OK, post))
}

/// Delete a post.
#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "posts", params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not yours, or read-only token", body = crate::middleware::problem::Problem),
        (status = 404, description = "No such post", body = crate::middleware::problem::Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn delete(State(state): State<AppState>, Writer(caller): Writer, Id(id): Id) -> Result<StatusCode> {
    posts::delete(&state.db, &caller.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn versioned(status: StatusCode, post: Post) -> Response {
    versioned_json(status, post.version, post, None)
}
