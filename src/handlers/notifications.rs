//! `GET /api/v1/notifications` (unread count and newest items) and
//! `POST /api/v1/notifications/read` (`{id}` for one, `{}` for all).

use axum::{extract::State, http::header, response::IntoResponse};
use serde::Deserialize;

use super::extract::{Json, Query};
use crate::models::list::in_range;
use crate::{
    error::Result,
    middleware::auth::{Caller, Writer},
    services::notifications,
    state::AppState,
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    #[serde(default, deserialize_with = "super::extract::present")]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "events", params(ListQuery),
    responses((status = 200, description = "`{unread, items}`, newest first"),
              (status = 400, description = "`limit` out of range", body = crate::middleware::problem::Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse> {
    let limit = in_range("limit", q.limit.unwrap_or(50), 1, 200)?;
    let page = notifications::page(&state.db, &caller.user, limit).await?;
    Ok((
        [(header::CACHE_CONTROL, "private, no-cache")],
        axum::Json(serde_json::json!({ "unread": page.unread, "items": page.items })),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// One notification; omitted: all of them.
    #[schema(minimum = 1)]
    pub id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "events", request_body = MarkRead,
    responses((status = 200, description = "`{marked, unread}`"),
              (status = 403, description = "Read-only token", body = crate::middleware::problem::Problem),
              (status = 422, description = "Not a notification id", body = crate::middleware::problem::Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn mark_read(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Json(body): Json<MarkRead>,
) -> Result<impl IntoResponse> {
    let marked = notifications::mark_read(&state.db, &caller.user, body.id).await?;
    let unread = notifications::unread(&state.db, caller.user.id).await?;
    Ok(axum::Json(serde_json::json!({ "marked": marked, "unread": unread })))
}
