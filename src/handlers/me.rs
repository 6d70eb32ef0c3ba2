//! `GET /api/v1/me`: the caller, by bearer token or session cookie. The same resource as
//! `GET /api/v1/users/{id}`, so it carries the same validator (`ETag: "<version>"`): an
//! `If-Match` read here works on `PATCH /api/v1/users/{id}`.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::Response,
};

use super::extract::versioned_json;
use crate::middleware::auth::Caller;

#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "The caller", body = crate::models::User,
        headers(("ETag" = String, description = "The account's version, as on /api/v1/users/{id}")))),
    security(("bearer" = []), ("session" = [])))]
pub async fn show(caller: Caller) -> Response {
    let user = caller.user;
    let mut res = versioned_json(StatusCode::OK, user.version, user, None);
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    res
}
