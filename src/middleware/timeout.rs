//! Request timeouts. An ordinary request that runs past `QUIRE_REQUEST_TIMEOUT_SECS` ends as
//! a 504 problem instead of holding its connection forever (event streams and report
//! progress answer their headers at once and are not cut: only producing the response is
//! timed). An upload is different: its size decides how long it takes, so it gets an idle
//! timeout instead — it may last as long as bytes keep arriving, and fails with 408 once
//! the client sends nothing for `QUIRE_UPLOAD_IDLE_TIMEOUT_SECS`.

use std::{future::Future, time::Duration};

use axum::{
    body::Body,
    extract::Request,
    http::Method,
    response::{IntoResponse, Response},
};

use super::body_limit::is_upload_path;
use crate::{
    error::Error,
    models::{AppError, ErrorCode},
};

/// Whether this request is an upload (idle timeout, no total one).
pub fn is_upload(req: &Request) -> bool {
    req.method() == Method::POST && is_upload_path(req.uri().path())
}

/// An upload's body, failing once nothing arrives for `idle`.
pub fn idle_body(req: Request, idle: Duration) -> Request {
    let (parts, body) = req.into_parts();
    Request::from_parts(parts, Body::new(tower_http::timeout::TimeoutBody::new(idle, body)))
}

/// `work`'s response, or a 504 problem once `limit` has passed.
pub async fn within(limit: Duration, work: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(limit, work).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(timeout = ?limit, "request timed out");
            Error::App(AppError::new(ErrorCode::Timeout, "The request took too long and was stopped.")).into_response()
        }
    }
}

/// Whether a body-reading error was the upload's idle timeout (somewhere in its chain of causes).
pub fn is_idle_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        current = e.source();
    }
    false
}
