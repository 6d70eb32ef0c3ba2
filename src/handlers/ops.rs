//! `GET /api/v1/admin/ops/events`: the live operations numbers, one `ops` event a second
//! (administrators only; the dashboard at `/admin/ops` draws them).

use std::convert::Infallible;

use axum::{extract::State, response::sse::Event as SseEvent, response::Response};
use futures_util::stream;

use super::events::{sse_response, Guard};
use crate::{
    error::{Error, Result},
    middleware::{auth::Caller, client_ip::ClientKey},
    state::AppState,
};

#[utoipa::path(get, path = "/api/v1/admin/ops/events", tag = "events",
    responses((status = 200, description = "text/event-stream: an `ops` event each second with this node's last second (`requests_per_second`, `p50_ms`, `p99_ms`, `error_rate`, `sse_connections`, `queue_depth`, `signups_per_hour`, `posts_per_hour`, `at_ms`)", content_type = "text/event-stream"),
              (status = 401, description = "No credentials", body = crate::middleware::problem::Problem),
              (status = 403, description = "Not an administrator", body = crate::middleware::problem::Problem),
              (status = 429, description = "Too many open streams for this account or address", body = crate::middleware::problem::Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn stream(State(state): State<AppState>, caller: Caller, ClientKey(client): ClientKey) -> Result<Response> {
    if !caller.user.is_admin() {
        return Err(Error::forbidden("The operations dashboard is for administrators."));
    }
    let permit = state.streams.try_open(Some(caller.user.id), &client)?;
    let rx = state.ops.subscribe();
    let events = stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let point = rx.borrow_and_update().points.last().cloned().unwrap_or_default();
        let data = serde_json::to_string(&point).unwrap_or_default();
        Some((Ok::<_, Infallible>(SseEvent::default().event("ops").data(data)), rx))
    });
    let guard = Guard { db: state.db.clone(), credential: caller.credential(), _permit: Some(permit) };
    Ok(sse_response(&state, events, Some(guard)))
}
