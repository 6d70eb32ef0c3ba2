//! Input that no handler should have to think about, refused at the door with a 400 problem:
//! a NUL character in the URL (PostgreSQL cannot store one in text, and no Quire path or
//! parameter ever needs one), or in a server function's form. JSON bodies are checked by the
//! API's `Json` extractor and GraphQL, where the body is parsed anyway.

use axum::{
    body::Body,
    extract::Request,
    http::{header, Method},
    response::{IntoResponse, Response},
};

use super::body_limit::{too_large, JSON_BODY_LIMIT};
use crate::error::Error;

/// True when `s` holds a NUL, raw or percent-encoded (`%00`).
pub fn has_nul(s: &[u8]) -> bool {
    s.contains(&0) || s.windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// The request, or the 400 for a NUL in its URL (or in a server function's form).
pub async fn check(req: Request) -> Result<Request, Response> {
    let uri = req.uri();
    if has_nul(uri.path().as_bytes()) || uri.query().is_some_and(|q| has_nul(q.as_bytes())) {
        return Err(Error::bad_request("The URL contains a NUL character, which is never valid here.").into_response());
    }
    let form = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().len() >= 33 && v.as_bytes()[..33].eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
    });
    if req.method() == Method::POST && form && req.uri().path().starts_with("/fn/") {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, JSON_BODY_LIMIT).await else {
            return Err(too_large(JSON_BODY_LIMIT).into_response());
        };
        if has_nul(&bytes) {
            return Err(
                Error::bad_request("The form contains a NUL character, which is never valid here.").into_response()
            );
        }
        return Ok(Request::from_parts(parts, Body::from(bytes)));
    }
    Ok(req)
}

/// True when a JSON text holds a string with a NUL (`\u0000`; JSON cannot carry a raw one).
/// Escapes are followed, so `\\u0000` (a backslash, then the text `u0000`) is not one.
pub fn json_has_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6).is_some_and(|h| h == b"0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_urls_and_json_is_found() {
        assert!(has_nul(b"/api/v1/posts?tag=a%00b"));
        assert!(has_nul(b"a\0b"));
        assert!(!has_nul(b"/api/v1/posts?tag=a%20b%0"));
        assert!(json_has_nul(br#"{"title":"a\u0000b"}"#));
        assert!(!json_has_nul(br#"{"title":"a\\u0000b"}"#));
        assert!(json_has_nul(br#"{"title":"a\\\u0000b"}"#));
        assert!(!json_has_nul(br#"{"title":"a\u0041b"}"#));
    }
}
