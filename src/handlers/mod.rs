//! The REST API (`/api/...`): explicit axum handlers for external clients. Each handler
//! extracts, calls one service and maps the result; conventions (errors, auth, body
//! limits) come from extractors and layers, not from handler code.

pub mod auth;
pub mod extract;
pub mod health;
pub mod me;

use axum::{
    extract::DefaultBodyLimit,
    routing::{get, post},
    Router,
};

use crate::{error::Error, state::AppState};

/// JSON bodies larger than this are refused with 413.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// Everything under `/api`; unknown paths answer a 404 problem.
pub fn router() -> Router<AppState> {
    let v1 = Router::new()
        .route("/health", get(health::show))
        .route("/auth/register", post(auth::register))
        .route("/auth/token", post(auth::token))
        .route("/me", get(me::show));

    Router::new().nest("/v1", v1).fallback(not_found).layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
}

async fn not_found() -> Error {
    Error::not_found("No API resource lives at this path.")
}
