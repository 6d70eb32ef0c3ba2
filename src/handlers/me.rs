//! `GET /api/v1/me`: the caller, by bearer token or session cookie.

use axum::{http::header, response::IntoResponse, Json};

use crate::middleware::auth::Caller;

pub async fn show(caller: Caller) -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "private, no-cache")], Json(caller.user))
}
