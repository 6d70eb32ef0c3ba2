//! Security headers. Pages get a nonce-based Content-Security-Policy from the HTML shell
//! (the nonce is per response, so only the renderer knows it); everything else gets the
//! fixed headers below, unless a handler set its own.

use axum::http::{header, HeaderValue};

/// The policy for server-rendered pages; `nonce` lets Leptos' hydration script and
/// resource data scripts run while every other inline script stays blocked.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: https:; connect-src 'self'; font-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The CSP nonce of one request, minted before rendering (so it never depends on the
/// renderer reporting it back) and handed to Leptos as its `Nonce` (see `startup`).
#[derive(Clone, Debug)]
pub struct PageNonce(pub std::sync::Arc<str>);

/// Mints the request's nonce and, on the way out, gives an HTML page that has no policy
/// of its own the nonce-based one, and every response the fixed headers it lacks.
pub async fn page_nonce(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let nonce: std::sync::Arc<str> = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes).into();
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let is_html = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !res.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if is_html {
            HeaderValue::from_str(&page_csp(&nonce)).unwrap_or(HeaderValue::from_static(DEFAULT_CSP))
        } else {
            HeaderValue::from_static(DEFAULT_CSP)
        };
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    let h = res.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ] {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    res
}

/// Leptos context for a page render: the request's own nonce replaces the one Leptos minted.
pub fn provide_request_nonce() {
    use leptos::prelude::{provide_context, use_context};
    if let Some(nonce) =
        use_context::<axum::http::request::Parts>().and_then(|p| p.extensions.get::<PageNonce>().cloned())
    {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

/// For anything that is not a page (JSON, files): nothing may run or frame it.
const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
