//! HTTP caching for the API, in one layer:
//! - a server-side cache of hot public reads (anonymous `GET`s answered 200 with JSON),
//!   reporting `X-Cache: HIT|MISS`;
//! - an `ETag` on every JSON `GET` (a handler's own, such as a post's version, wins) and
//!   `If-None-Match` → 304;
//! - `Cache-Control`: public responses may sit in shared caches for a minute, anything
//!   answered to a signed-in caller is private.
//!
//! The entries live in the [`Store`] (generation-checked); every write that can change public
//! content invalidates it ([`changed_public_content`]).

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::Response,
};
use sha2::{Digest, Sha256};

use super::auth::ResolvedCaller;
use crate::{services::cache::Store, state::AppState};

pub const PUBLIC: &str = "public, s-maxage=60, stale-while-revalidate=300";
pub const PRIVATE: &str = "private, no-cache";
pub(crate) static X_CACHE: HeaderName = HeaderName::from_static("x-cache");
/// Larger responses are answered but not kept.
const MAX_ENTRY_BYTES: usize = 1024 * 1024;
/// Bodies are buffered to compute an ETag up to this size (a full page of long posts fits).
const MAX_BUFFER_BYTES: usize = 32 * 1024 * 1024;

/// A kept answer (in the [`Store`]).
pub(crate) struct Entry {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// A page's CSP nonce as rendered (see `page_cache`), replaced on every hit.
    pub nonce: Option<std::sync::Arc<str>>,
}

impl Entry {
    /// Keeps this answer under `key`, unless a write happened since `generation` was read.
    pub(crate) fn keep(self, cache: &Store, key: String, generation: u64) {
        let bytes = self.body.len() + self.headers.len() * 64;
        cache.put(key, generation, bytes, self);
    }
}

/// Whether the handler allows a shared cache to keep this answer (no `no-store`, not `private`).
pub(crate) fn shareable(headers: &HeaderMap) -> bool {
    headers.get(header::CACHE_CONTROL).is_none_or(|v| {
        let v = v.as_bytes();
        !(v.windows(8).any(|w| w == b"no-store") || v.starts_with(b"private"))
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

fn etag_of(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..12]))).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Whether an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 asks for GET).
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let etag = bare(etag);
    if_none_match.split(',').any(|t| t.trim() == "*" || bare(t) == etag)
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return next.run(req).await;
    }
    let anonymous = req.extensions().get::<ResolvedCaller>().is_none_or(|c| c.0.is_none());
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);
    let cache = &state.cache;
    let key = anonymous.then(|| {
        let version = req.headers().get("accept-version").and_then(|v| v.to_str().ok()).unwrap_or("");
        // What the client accepts can change the answer's type (GraphQL's media types).
        let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        // The URI as the client sent it: nested routers see their prefix stripped, and an
        // unversioned path has been rewritten to its version by then.
        let uri = req.extensions().get::<axum::extract::OriginalUri>().map(|o| &o.0).unwrap_or(req.uri());
        let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        format!("{}|{}|{}|{}", req.method(), pq, version, accept)
    });
    let generation = cache.generation();

    let (mut res, body) = match key.as_deref().and_then(|k| cache.get::<Entry>(k, generation)) {
        Some(hit) => {
            let mut res = Response::new(Body::empty());
            *res.status_mut() = hit.status;
            *res.headers_mut() = hit.headers.clone();
            res.headers_mut().insert(&X_CACHE, HeaderValue::from_static("HIT"));
            metrics::counter!("quire_cache_requests_total", "cache" => "api", "result" => "hit").increment(1);
            (res, Some(hit.body.clone()))
        }
        None => {
            let res = next.run(req).await;
            if res.status() != StatusCode::OK || !is_json(res.headers()) {
                return finish(res, anonymous, if_none_match.as_deref());
            }
            let (mut parts, body) = res.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_BUFFER_BYTES).await else {
                tracing::error!("response body could not be buffered");
                let mut res = Response::new(Body::empty());
                *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return res;
            };
            if !parts.headers.contains_key(header::ETAG) {
                parts.headers.insert(header::ETAG, etag_of(&bytes));
            }
            if let Some(key) = key.filter(|_| shareable(&parts.headers) && bytes.len() <= MAX_ENTRY_BYTES) {
                let mut headers = parts.headers.clone();
                headers.remove(header::CONTENT_LENGTH);
                for name in ["ratelimit", "ratelimit-policy", "x-ratelimit-limit", "x-ratelimit-remaining"] {
                    headers.remove(name);
                }
                headers.remove("x-ratelimit-reset");
                headers.remove("x-request-id");
                Entry { status: parts.status, headers, body: bytes.clone(), nonce: None }.keep(cache, key, generation);
                parts.headers.insert(&X_CACHE, HeaderValue::from_static("MISS"));
                metrics::counter!("quire_cache_requests_total", "cache" => "api", "result" => "miss").increment(1);
            }
            (Response::from_parts(parts, Body::empty()), Some(bytes))
        }
    };
    if let Some(b) = &body {
        res.headers_mut().remove(header::CONTENT_LENGTH);
        *res.body_mut() = Body::from(b.clone());
    }
    finish(res, anonymous, if_none_match.as_deref())
}

/// Sets `Cache-Control` and `Vary`, and turns a matching conditional GET into a 304.
fn finish(mut res: Response, anonymous: bool, if_none_match: Option<&str>) -> Response {
    let ok = res.status().is_success();
    let headers = res.headers_mut();
    if ok && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(if anonymous { PUBLIC } else { PRIVATE }));
    }
    if ok {
        headers.insert(header::VARY, HeaderValue::from_static("Accept, Accept-Version, Authorization, Cookie"));
    }
    let matched = res.status() == StatusCode::OK
        && match (if_none_match, res.headers().get(header::ETAG).and_then(|v| v.to_str().ok())) {
            (Some(inm), Some(etag)) => none_match(inm, etag),
            _ => false,
        };
    if matched {
        let mut out = Response::new(Body::empty());
        *out.status_mut() = StatusCode::NOT_MODIFIED;
        for name in [header::ETAG, header::CACHE_CONTROL, header::VARY, header::LAST_MODIFIED] {
            if let Some(v) = res.headers().get(&name) {
                out.headers_mut().insert(name, v.clone());
            }
        }
        for (name, value) in res.headers() {
            let n = name.as_str();
            if n.starts_with("ratelimit") || n.starts_with("x-ratelimit") || n == "x-cache" {
                out.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return out;
    }
    res
}

/// Whether a successful request with this method and path may have changed public content.
pub fn writes_content(method: &Method, path: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if path.starts_with("/fn/") {
        // Those that change nothing public say so where they are declared (`KeepsPublicCache`).
        return true;
    }
    if let Some(api) = path.strip_prefix("/api") {
        // Authentication, tokens and GraphQL (which invalidates on its own mutations) change no public content;
        // a batch's operations pass through this layer one by one.
        return !(api.contains("/auth/")
            || api.contains("/tokens")
            || api.ends_with("/graphql")
            || api.ends_with("/batch"));
    }
    false
}

/// Set on a write's response by a handler that knows nothing public changed (a new draft is
/// seen by nobody but its author): the cache is kept.
#[derive(Clone, Copy, Debug)]
pub struct PublicUnchanged;

/// Marks a server function that changes nothing a signed-out visitor sees (it reads, or
/// changes only its caller's private state): its successful calls keep the public cache.
/// Declared with the function: `#[middleware(crate::middleware::http_cache::KeepsPublicCache)]`.
#[derive(Clone, Copy, Debug)]
pub struct KeepsPublicCache;

impl<S> tower::Layer<S> for KeepsPublicCache {
    type Service = MarkUnchanged<S>;

    fn layer(&self, inner: S) -> MarkUnchanged<S> {
        MarkUnchanged(inner)
    }
}

/// [`KeepsPublicCache`]'s service: sets [`PublicUnchanged`] on the function's response.
#[derive(Clone, Debug)]
pub struct MarkUnchanged<S>(S);

impl<S> tower::Service<Request> for MarkUnchanged<S>
where
    S: tower::Service<Request, Response = Response>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let call = self.0.call(req);
        Box::pin(async move {
            let mut res = call.await?;
            res.extensions_mut().insert(PublicUnchanged);
            Ok(res)
        })
    }
}

/// After a request that `writes_content`: whether it succeeded and may have changed public
/// content (then the cache is invalidated on every node before the response leaves, so the
/// writer's next read is fresh wherever it lands).
pub fn changed_public_content(res: &Response) -> bool {
    (res.status().is_success() || res.status().is_redirection()) && res.extensions().get::<PublicUnchanged>().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        assert!(none_match("\"a\", \"b\"", "\"b\""));
        assert!(none_match("W/\"b\"", "\"b\""));
        assert!(none_match("*", "\"x\""));
        assert!(!none_match("\"a\"", "\"b\""));
    }

    #[test]
    fn only_writes_to_content_invalidate() {
        assert!(writes_content(&Method::POST, "/fn/add_comment"));
        assert!(writes_content(&Method::PATCH, "/api/v1/posts/3"));
        assert!(writes_content(&Method::POST, "/fn/list_posts"), "unless the function keeps the cache");
        assert!(!writes_content(&Method::POST, "/api/v1/auth/token"));
        assert!(!writes_content(&Method::GET, "/api/v1/posts"));
    }
}
