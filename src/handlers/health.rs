//! `GET /api/v1/health`: liveness plus a database round trip.

use std::time::Duration;

use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde::Serialize;

use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub database: &'static str,
}

/// 200 `{status: "ok", …}` when the database answers within two seconds, else 503.
#[utoipa::path(get, path = "/api/v1/health", tag = "meta",
    responses((status = 200, description = "Up", body = Health), (status = 503, description = "Database unreachable", body = Health)))]
pub async fn show(State(state): State<AppState>) -> impl IntoResponse {
    let database_ok = matches!(tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await, Ok(Ok(())));
    let (status, body) = if database_ok {
        (StatusCode::OK, Health { status: "ok", version: env!("CARGO_PKG_VERSION"), database: "ok" })
    } else {
        tracing::warn!("health check: database unreachable");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Health { status: "unavailable", version: env!("CARGO_PKG_VERSION"), database: "unreachable" },
        )
    };
    (status, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(body))
}
