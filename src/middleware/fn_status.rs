//! Server functions answer errors with their typed [`AppError`] body, but the framework sends
//! every error that happens before a function body runs (a form it cannot read, a missing
//! argument) as a 500. This layer gives each such answer the status its error code means
//! (400 for an unreadable form), the same mapping the REST API uses.

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode},
    response::Response,
};

use super::problem::status_for;
use crate::models::AppError;

/// Error bodies are small JSON documents; anything larger is left alone.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A server function's answer with the status its error code means.
pub async fn fix(res: Response) -> Response {
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = status_for(error.code);
        parts.headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Response::from_parts(parts, Body::from(bytes))
}
