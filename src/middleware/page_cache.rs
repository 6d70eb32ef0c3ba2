//! The server cache of public pages: the front page (with its filters and pages) and post
//! pages, as an anonymous visitor sees them, kept in the same generation-invalidated store as
//! the API's public reads. A write that can change public content (see
//! [`http_cache::writes_content`]) bumps the generation, so the next visitor gets a fresh
//! render; a render that raced a write is not kept.
//!
//! Only what is the same for every anonymous visitor is kept: `GET`, no session cookie and
//! no `Authorization`, a 200 `text/html` answer that sets no cookie. The one per-response
//! part of a page is its CSP nonce: a kept page remembers the nonce it was rendered with,
//! and each hit carries the nonce minted for its own request instead (the policy header is
//! then set from that nonce by `security_headers::page_nonce`).
//!
//! `QUIRE_PAGE_CACHE=off` renders every page (to measure the renderer, or to rule the cache out).

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::Response,
};

use futures_util::StreamExt as _;
use http_body_util::BodyExt as _;

use super::{
    http_cache::{self, X_CACHE},
    request_metrics::RouteTemplate,
    security_headers::PageNonce,
};
use crate::services::cache::Store;

/// Pages larger than this are answered but not kept (a post with 50 long comments fits).
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;
/// The session cookie's name (see `startup::router`): its presence means "maybe signed in".
pub const SESSION_COOKIE: &str = "quire_session";

/// A page request that may be answered from, or stored in, the cache.
pub struct Key {
    key: String,
    generation: u64,
    nonce: Arc<str>,
}

pub enum Lookup {
    Hit(Response),
    Miss(Key),
    /// Not a public page request: render it, keep nothing.
    Bypass,
}

/// Whether `path` is one of the public pages kept here.
fn is_public_page(path: &str) -> bool {
    path == "/" || path.strip_prefix("/posts/").is_some_and(|slug| !slug.is_empty() && !slug.contains('/'))
}

fn anonymous(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::AUTHORIZATION) && !has_session_cookie(headers)
}

/// Whether the request carries the session cookie (whatever its value): without it nobody
/// is signed in.
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.split(';').any(|c| c.trim().split('=').next() == Some(SESSION_COOKIE))))
}

pub fn lookup(cache: &Store, enabled: bool, req: &Request) -> Lookup {
    if !enabled || req.method() != Method::GET || !is_public_page(req.uri().path()) || !anonymous(req.headers()) {
        return Lookup::Bypass;
    }
    let Some(PageNonce(nonce)) = req.extensions().get::<PageNonce>().cloned() else { return Lookup::Bypass };
    let key = format!("PAGE|{}", req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let generation = cache.generation();
    match cache.get::<http_cache::Entry>(&key, generation) {
        Some(hit) => {
            let body = match &hit.nonce {
                // The nonce is 22 random URL-safe characters: it occurs in the page only where
                // the renderer put it.
                Some(old) => Bytes::from(String::from_utf8_lossy(&hit.body).replace(&**old, &nonce)),
                None => hit.body.clone(),
            };
            let mut res = Response::new(Body::from(body));
            *res.status_mut() = hit.status;
            *res.headers_mut() = hit.headers.clone();
            res.headers_mut().insert(&X_CACHE, HeaderValue::from_static("HIT"));
            metrics::counter!("quire_cache_requests_total", "cache" => "page", "result" => "hit").increment(1);
            // Counted under the route the router would have matched.
            let route = if req.uri().path() == "/" { "/" } else { "/posts/{slug}" };
            res.extensions_mut().insert(RouteTemplate(Arc::from(route)));
            Lookup::Hit(res)
        }
        None => Lookup::Miss(Key { key, generation, nonce }),
    }
}

/// Keeps `res` under `key` when it is a public page, and returns it (marked `X-Cache: MISS`).
pub async fn store(cache: &Store, key: Key, res: Response) -> Response {
    let headers = res.headers();
    let storable = res.status() == StatusCode::OK
        && headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
        && !headers.contains_key(header::SET_COOKIE)
        && http_cache::shareable(headers);
    if !storable {
        return res;
    }
    let (mut parts, mut body) = res.into_parts();
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            tracing::error!(key = %key.key, "a page's body failed while it was being kept");
            let mut res = Response::new(Body::empty());
            *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return res;
        };
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
        }
        if buf.len() > MAX_PAGE_BYTES {
            // Too large to keep: answer what was read, then the rest as it comes.
            let head = futures_util::stream::once(async move { Ok::<_, axum::Error>(Bytes::from(buf)) });
            return Response::from_parts(parts, Body::from_stream(head.chain(body.into_data_stream())));
        }
    }
    let bytes = Bytes::from(buf);
    let mut kept = parts.headers.clone();
    kept.remove(header::CONTENT_LENGTH);
    // Set again per response: the policy from the hit's own nonce, the request id per request.
    kept.remove(header::CONTENT_SECURITY_POLICY);
    kept.remove("x-request-id");
    let nonce = std::str::from_utf8(&bytes).ok().filter(|b| b.contains(&*key.nonce)).map(|_| key.nonce.clone());
    http_cache::Entry { status: parts.status, headers: kept, body: bytes.clone(), nonce }.keep(
        cache,
        key.key,
        key.generation,
    );
    parts.headers.insert(&X_CACHE, HeaderValue::from_static("MISS"));
    metrics::counter!("quire_cache_requests_total", "cache" => "page", "result" => "miss").increment(1);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_front_page_and_post_pages_are_public_pages() {
        assert!(is_public_page("/"));
        assert!(is_public_page("/posts/hello-world"));
        for path in ["/posts/", "/posts/a/b", "/login", "/dashboard", "/settings", "/api/v1/posts", "/fn/list_posts"] {
            assert!(!is_public_page(path), "{path}");
        }
    }

    #[test]
    fn a_session_cookie_or_a_token_means_not_anonymous() {
        let mut h = HeaderMap::new();
        assert!(anonymous(&h));
        h.insert(header::COOKIE, HeaderValue::from_static("theme=dark; other=1"));
        assert!(anonymous(&h));
        h.insert(header::COOKIE, HeaderValue::from_static("theme=dark; quire_session=abc"));
        assert!(!anonymous(&h));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer qrt_x"));
        assert!(!anonymous(&h));
    }
}
