//! CSRF defence: a state-changing request that a browser could send with the session
//! cookie — every POST/PUT/PATCH/DELETE under `/fn/`, and one under `/api` that carries a
//! cookie (GraphQL included) — whose `Origin` (or, lacking it, `Referer`) names another
//! site is refused with 403. The API also admits the origins configured for CORS (they may
//! call it with credentials by design). Browsers always send `Origin` on cross-site POSTs, so a
//! forged form cannot pass; non-browser clients that send neither header are let through
//! (they carry no ambient cookie a forger could borrow). Webhooks carry no cookie and are
//! verified by signature.

use axum::{
    extract::Request,
    http::{header, Method},
    response::{IntoResponse, Response},
};

use crate::{error::Error, state::AppState};

/// The 403 for a cross-site request that carries (or may carry) the session cookie, if this is one.
pub fn refusal(state: &AppState, req: &Request) -> Option<Response> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let path = req.uri().path();
    let server_fn = path.starts_with("/fn/");
    let api_with_cookie =
        path.starts_with("/api/") && !path.starts_with("/api/webhooks/") && req.headers().contains_key(header::COOKIE);
    if server_fn || api_with_cookie {
        let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok());
        let source = req
            .headers()
            .get(header::ORIGIN)
            .or_else(|| req.headers().get(header::REFERER))
            .and_then(|v| v.to_str().ok());
        if let Some(source) = source {
            let allowed_cross_origin = !server_fn && state.config.cors_origins.iter().any(|o| origin_of(source) == o);
            if !same_site(source, host) && !allowed_cross_origin {
                tracing::warn!(origin = source, "cross-site request with the session cookie refused");
                return Some(Error::forbidden("Cross-site request refused.").into_response());
            }
        }
    }
    None
}

/// `scheme://host[:port]` of an Origin or Referer value.
fn origin_of(source: &str) -> &str {
    let Some(scheme_end) = source.find("://") else { return source };
    let rest = &source[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).map(|i| scheme_end + 3 + i).unwrap_or(source.len());
    &source[..end]
}

/// True when `source` (an Origin or Referer URL) has the same host and port as `host`.
fn same_site(source: &str, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let rest = source.strip_prefix("https://").or_else(|| source.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::{origin_of, same_site};

    #[test]
    fn only_the_serving_host_is_same_site() {
        assert!(same_site("http://127.0.0.1:3000", Some("127.0.0.1:3000")));
        assert!(same_site("http://127.0.0.1:3000/login?next=/x", Some("127.0.0.1:3000")));
        assert!(!same_site("http://evil.example", Some("127.0.0.1:3000")));
        assert!(!same_site("http://127.0.0.1:3000.evil.example", Some("127.0.0.1:3000")));
        assert!(!same_site("null", Some("127.0.0.1:3000")));
        assert!(!same_site("http://127.0.0.1:3000", None));
    }

    #[test]
    fn origins_are_cut_from_referers() {
        assert_eq!(origin_of("https://app.example.com/x?y"), "https://app.example.com");
        assert_eq!(origin_of("https://app.example.com"), "https://app.example.com");
        assert_eq!(origin_of("null"), "null");
    }
}
