//! `GET /api/v1/health`: liveness plus a database round trip. `GET /api/v1/ready`: whether a
//! load balancer should send this node traffic (not while it starts or stops).

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

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready`, `stopping` or `unavailable` (the database does not answer).
    pub status: &'static str,
}

/// 200 while this node takes traffic; 503 once it has begun to shut down (in-flight requests
/// still finish) or while its database does not answer. For load balancers' health checks.
#[utoipa::path(get, path = "/api/v1/ready", tag = "meta",
    responses((status = 200, description = "Taking traffic", body = Readiness),
              (status = 503, description = "Stopping, or the database does not answer", body = Readiness)))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let answer = if !state.ready.load(std::sync::atomic::Ordering::Acquire) {
        (StatusCode::SERVICE_UNAVAILABLE, Readiness { status: "stopping" })
    } else if matches!(tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await, Ok(Ok(()))) {
        (StatusCode::OK, Readiness { status: "ready" })
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Readiness { status: "unavailable" })
    };
    (answer.0, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(answer.1))
}
