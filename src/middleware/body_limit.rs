//! Body limits, for every request, in one place and before anything reads a body: a
//! declared `Content-Length` over the limit is refused at once with a 413 problem, and
//! a body without one (chunked) is cut off where it passes the limit, which every reader
//! (JSON, forms, GraphQL, multipart) reports as 413 or 400, never a 5xx. Uploads may carry
//! 10 MiB (plus the form's framing); everything else — JSON, forms, GraphQL, webhooks — 1 MiB.

use axum::{
    body::Body,
    extract::Request,
    http::header,
    response::{IntoResponse, Response},
};

use crate::{
    error::Error,
    models::{AppError, ErrorCode},
    services::uploads,
};

/// JSON, form, GraphQL and webhook bodies.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;
/// The multipart upload body: the file plus room for the form's framing.
pub const UPLOAD_BODY_LIMIT: usize = uploads::MAX_BYTES as usize + 64 * 1024;

/// `/api/uploads`, `/api/v1/uploads`, `/api/v2/uploads` (the nested API router sees them
/// without `/api`).
pub fn is_upload_path(path: &str) -> bool {
    let rest = path.strip_prefix("/api").unwrap_or(path);
    let rest = match rest.strip_prefix("/v") {
        Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => r.trim_start_matches(|c: char| c.is_ascii_digit()),
        _ => rest,
    };
    rest == "/uploads" || rest == "/uploads/"
}

/// The body limit for a request path.
pub fn limit_for(path: &str) -> usize {
    if is_upload_path(path) {
        UPLOAD_BODY_LIMIT
    } else {
        JSON_BODY_LIMIT
    }
}

pub fn too_large(limit: usize) -> Error {
    let size = if limit >= UPLOAD_BODY_LIMIT { "10 MiB" } else { "1 MiB" };
    Error::App(AppError::new(ErrorCode::PayloadTooLarge, format!("The request body is larger than {size}.")))
}

/// The request with its body limited, or the 413 when its declared length is over the limit.
pub fn limit(req: Request) -> Result<Request, Response> {
    let limit = limit_for(req.uri().path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit).into_response());
    }
    if declared == Some(0) {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, limit));
    Ok(Request::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_have_their_own_limit() {
        for p in ["/api/v1/uploads", "/api/v2/uploads", "/api/uploads", "/v1/uploads"] {
            assert_eq!(limit_for(p), UPLOAD_BODY_LIMIT, "{p}");
        }
        for p in ["/api/v1/posts", "/fn/login", "/api/graphql", "/api/v1/uploadsx", "/uploads/abc.png"] {
            assert_eq!(limit_for(p), JSON_BODY_LIMIT, "{p}");
        }
    }
}
