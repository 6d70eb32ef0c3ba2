//! `GET /api/v1/me`: the caller, by bearer token or session cookie.

use axum::{http::header, response::IntoResponse, Json};

use crate::middleware::auth::Caller;

#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "The caller", body = crate::models::User)),
    security(("bearer" = []), ("session" = [])))]
pub async fn show(caller: Caller) -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "private, no-cache")], Json(caller.user))
}
