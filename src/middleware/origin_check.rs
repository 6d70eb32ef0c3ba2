//! CSRF defence for server functions: a state-changing request under `/fn/` whose
//! `Origin` (or, lacking it, `Referer`) names another site is refused with 403.
//! Browsers always send `Origin` on cross-site POSTs, so a forged form cannot pass;
//! non-browser clients that send neither header are let through (they carry no
//! ambient cookie a forger could borrow).

use axum::{
    extract::Request,
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{error::Error, models::AppError};

pub async fn layer(req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/fn/") && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok());
        let source = req
            .headers()
            .get(header::ORIGIN)
            .or_else(|| req.headers().get(header::REFERER))
            .and_then(|v| v.to_str().ok());
        if let Some(source) = source {
            if !same_site(source, host) {
                tracing::warn!(origin = source, "cross-site server function call refused");
                let mut res = Error::App(AppError::forbidden("Cross-site request refused.")).into_response();
                *res.status_mut() = StatusCode::FORBIDDEN;
                return res;
            }
        }
    }
    next.run(req).await
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
    use super::same_site;

    #[test]
    fn only_the_serving_host_is_same_site() {
        assert!(same_site("http://127.0.0.1:3000", Some("127.0.0.1:3000")));
        assert!(same_site("http://127.0.0.1:3000/login?next=/x", Some("127.0.0.1:3000")));
        assert!(!same_site("http://evil.example", Some("127.0.0.1:3000")));
        assert!(!same_site("http://127.0.0.1:3000.evil.example", Some("127.0.0.1:3000")));
        assert!(!same_site("null", Some("127.0.0.1:3000")));
        assert!(!same_site("http://127.0.0.1:3000", None));
    }
}
