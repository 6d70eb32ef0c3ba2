//! API versions. `/api/v1/...` is canonical; `/api/...` without a version segment is
//! served by the version `Accept-Version` names, or the latest. An unknown version (in
//! the header or the path) is a 400. v2 differs from v1 only in the post list envelope.

use axum::{
    extract::Request,
    http::{HeaderValue, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
    Router,
};
use tower::ServiceExt;

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    V2,
}

impl ApiVersion {
    pub const LATEST: ApiVersion = ApiVersion::V2;

    /// `1`, `v1`, `2`, `v2` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().trim_start_matches(['v', 'V']) {
            "1" => Some(ApiVersion::V1),
            "2" => Some(ApiVersion::V2),
            _ => None,
        }
    }

    pub fn segment(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1",
            ApiVersion::V2 => "v2",
        }
    }
}

fn unknown(v: &str) -> Error {
    let shown: String = v.chars().take(20).collect();
    Error::bad_request(format!("Unknown API version `{shown}`; this server speaks versions 1 and 2."))
}

/// Refuses an `Accept-Version` header naming a version that does not exist.
pub async fn check_header(req: Request, next: Next) -> Response {
    if let Some(v) = req.headers().get("accept-version") {
        let v = v.to_str().unwrap_or("?");
        if ApiVersion::parse(v).is_none() {
            return unknown(v).into_response();
        }
    }
    next.run(req).await
}

/// A leading `/v<digits>` segment, if the path has one.
fn version_segment(path: &str) -> Option<&str> {
    let seg = path.strip_prefix('/')?.split('/').next()?;
    let digits = seg.strip_prefix(['v', 'V'])?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(seg)
}

/// The `/api` fallback: routes an unversioned path to its version, and answers for
/// versioned paths no route matched (404, or 400 for a version that does not exist).
pub async fn dispatch(versions: Router, mut req: Request) -> Response {
    let path = req.uri().path().to_string();
    if let Some(seg) = version_segment(&path) {
        return match ApiVersion::parse(seg) {
            Some(_) => Error::not_found("No API resource lives at this path.").into_response(),
            None => unknown(seg).into_response(),
        };
    }
    let version = req
        .headers()
        .get("accept-version")
        .and_then(|v| v.to_str().ok())
        .and_then(ApiVersion::parse)
        .unwrap_or(ApiVersion::LATEST);
    let target = match req.uri().query() {
        Some(q) => format!("/{}{}?{}", version.segment(), path, q),
        None => format!("/{}{}", version.segment(), path),
    };
    match target.parse::<Uri>() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => return Error::not_found("No API resource lives at this path.").into_response(),
    }
    let mut res = match versions.oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    res.headers_mut().insert("api-version", HeaderValue::from_static(&version.segment()[1..]));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_segments_are_found() {
        assert_eq!(ApiVersion::parse("v1"), Some(ApiVersion::V1));
        assert_eq!(ApiVersion::parse("2"), Some(ApiVersion::V2));
        assert_eq!(ApiVersion::parse("3"), None);
        assert_eq!(version_segment("/v9/posts"), Some("v9"));
        assert_eq!(version_segment("/posts"), None);
        assert_eq!(version_segment("/vote"), None);
    }
}
