//! Renders errors as `application/problem+json` (RFC 9457) with Quire's `code`,
//! `request_id` and field `errors`. Handlers return [`Error`]; its `IntoResponse`
//! only records what went wrong, and this one middleware logs it (with the request's
//! span) and writes the body. Bare error statuses produced under `/api` by the router
//! or by tower layers (405, 413, 408/504, panics…) get the same shape here.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::request_id::RequestId;
use crate::{
    error::Error,
    models::{AppError, ErrorCode, FieldError},
};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The HTTP status for each error code: the one place this mapping lives.
pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::ValidationError => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        ErrorCode::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn code_for(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        408 => ErrorCode::RequestTimeout,
        504 => ErrorCode::Timeout,
        409 => ErrorCode::Conflict,
        412 => ErrorCode::PreconditionFailed,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        422 => ErrorCode::ValidationError,
        428 => ErrorCode::PreconditionRequired,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::ServiceUnavailable,
        400..=499 => ErrorCode::BadRequest,
        _ => ErrorCode::InternalError,
    }
}

fn default_detail(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotFound => "No resource lives at this path.",
        ErrorCode::MethodNotAllowed => "This method is not allowed here; see the Allow header.",
        ErrorCode::PayloadTooLarge => "The request body is too large.",
        ErrorCode::UnsupportedMediaType => "This content type is not supported here.",
        ErrorCode::Timeout => "The request took too long and was stopped.",
        ErrorCode::Unauthorized => "Authentication required.",
        ErrorCode::RateLimited => "Too many requests; wait and try again (see Retry-After).",
        ErrorCode::InternalError => "Something went wrong on our side. Please try again.",
        _ => "The request could not be processed.",
    }
}

/// What a handler's error leaves in the response for the renderer.
#[derive(Clone)]
struct Failure {
    public: AppError,
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let public = self.public();
        let cause = match self {
            Error::Internal(cause) => Some(cause),
            Error::App(_) => None,
        };
        let mut res = status_for(public.code).into_response();
        res.extensions_mut().insert(Failure { public, cause });
        res
    }
}

/// An error (RFC 9457 problem details, with Quire's members): the one envelope every error
/// answer has, and its schema in the OpenAPI document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable machine code: `VALIDATION_ERROR`, `UNAUTHORIZED`, `NOT_FOUND`, `RATE_LIMITED`, …
    pub code: String,
    /// The request's id, also in `X-Request-ID` and the server's logs.
    pub request_id: String,
    /// For validation errors: each failing field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a stale write (412): the resource's version now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

impl Problem {
    pub fn new(status: StatusCode, error: &AppError, request_id: &str) -> Self {
        Problem {
            type_: format!("https://quire.dev/problems/{}", error.code.as_str().to_ascii_lowercase().replace('_', "-")),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: error.message.clone(),
            code: error.code.as_str().to_string(),
            request_id: request_id.to_string(),
            errors: error.errors.clone(),
            current_version: error.current_version,
        }
    }
}

/// Serialises a problem document for `status` and `error`.
pub fn problem_response(status: StatusCode, error: &AppError, request_id: &str) -> Response {
    let bytes = serde_json::to_vec(&Problem::new(status, error, request_id)).unwrap_or_default();
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    res
}

pub async fn layer(req: Request, next: Next) -> Response {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_else(|| Arc::from("-"));
    let under_api = req.uri().path().starts_with("/api");
    let mut res = next.run(req).await;
    let status = res.status();

    let public = if let Some(failure) = res.extensions_mut().remove::<Failure>() {
        if let Some(cause) = &failure.cause {
            tracing::error!(error = %cause, "request failed");
        } else if status.is_server_error() {
            tracing::error!(code = failure.public.code.as_str(), "request failed");
        }
        failure.public
    } else if under_api && (status.is_client_error() || status.is_server_error()) && is_bare(&res) {
        // A bare status from the router or a layer: give it the same shape.
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), "request failed without detail");
        }
        let code = code_for(status);
        AppError::new(code, default_detail(code))
    } else {
        return res;
    };

    let mut out = problem_response(status, &public, &request_id);
    // Keep the headers that matter for the status (Allow on 405, Retry-After, …).
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = res.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    if status == StatusCode::SERVICE_UNAVAILABLE && !out.headers().contains_key(header::RETRY_AFTER) {
        out.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if status == StatusCode::UNAUTHORIZED && under_api && !out.headers().contains_key(header::WWW_AUTHENTICATE) {
        out.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"quire\""));
    }
    let (mut parts, _) = res.into_parts();
    let (out_parts, body) = out.into_parts();
    parts.status = out_parts.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in out_parts.headers.iter() {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}

/// No body type of its own, or plain text from a framework default: not a document a
/// handler chose to send (a health check's JSON 503, say, is left alone).
fn is_bare(res: &Response) -> bool {
    match res.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v.as_bytes().starts_with(b"text/plain"),
    }
}
