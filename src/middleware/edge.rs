//! The edge every request passes, in one layer (each check is its module's; one layer, not
//! six, because tower clones a layered stack per request): a time limit — a total one, or an
//! idle one for uploads —, the Origin check for cookie-authenticated writes, the body limit,
//! refused input (NUL); public pages from the page cache; then, on the way out, a server
//! function's error status and the public cache's invalidation after a write.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

use super::{body_limit, fn_status, http_cache, input_guard, origin_check, page_cache, timeout};
use crate::state::AppState;

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if timeout::is_upload(&req) {
        let req = timeout::idle_body(req, state.config.upload_idle_timeout);
        return guarded(&state, req, next).await;
    }
    let limit = state.config.request_timeout;
    timeout::within(limit, guarded(&state, req, next)).await
}

async fn guarded(state: &AppState, req: Request, next: Next) -> Response {
    if let Some(refused) = origin_check::refusal(state, &req) {
        return refused;
    }
    let req = match body_limit::limit(req) {
        Ok(req) => req,
        Err(refused) => return refused,
    };
    let req = match input_guard::check(req).await {
        Ok(req) => req,
        Err(refused) => return refused,
    };
    let page = match page_cache::lookup(&state.cache, state.config.page_cache, &req) {
        page_cache::Lookup::Hit(res) => return res,
        page_cache::Lookup::Miss(key) => Some(key),
        page_cache::Lookup::Bypass => None,
    };
    let server_fn = req.uri().path().starts_with("/fn/");
    let writes = http_cache::writes_content(req.method(), req.uri().path());
    let res = next.run(req).await;
    let res = if server_fn { fn_status::fix(res).await } else { res };
    if let Some(key) = page {
        return page_cache::store(&state.cache, key, res).await;
    }
    if writes && http_cache::changed_public_content(&res) {
        state.cache.invalidate().await;
    }
    res
}
