//! The API's front door, run once per `/api` request: resolves the caller (bearer token
//! or session) and charges the request to a rate-limit budget — per IP for anonymous
//! callers and for `/auth/*`, per user otherwise — answering 429 with `Retry-After`
//! when it is spent. Every response carries the budget in `RateLimit-Policy`/`RateLimit`
//! (IETF draft) and `X-RateLimit-*` headers. Webhooks are not limited.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{
    auth::{self, ResolvedCaller},
    client_ip::ip_key,
};
use crate::{
    error::Error,
    models::{AppError, ErrorCode},
    services::rate_limit::{Decision, Policy},
    state::AppState,
};

/// `/auth/...` with or without a version segment.
fn is_auth_path(path: &str) -> bool {
    let rest = match path.strip_prefix("/v") {
        Some(r) => r.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => path,
    };
    rest.starts_with("/auth/")
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/webhooks/") {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let resolved = auth::resolve(&parts, &state).await;
    let limiter = &state.limiter;
    let (policy, key) = if is_auth_path(parts.uri.path()) {
        (limiter.auth, ip_key(&parts, &state.config.trusted_proxies))
    } else {
        match &resolved {
            Ok(Some(caller)) => (limiter.user, format!("user:{}", caller.user.id)),
            _ => (limiter.anonymous, ip_key(&parts, &state.config.trusted_proxies)),
        }
    };
    let decision = limiter.hit(&policy, &key).await;
    if !decision.allowed {
        tracing::info!(policy = policy.name.as_str(), "rate limited");
        let mut res = Error::App(AppError::new(
            ErrorCode::RateLimited,
            format!(
                "Too many requests: the limit is {} per {} seconds. Try again in {} seconds.",
                policy.limit,
                policy.window.as_secs(),
                secs_ceil(decision.retry_after.unwrap_or_default())
            ),
        ))
        .into_response();
        set_headers(res.headers_mut(), &policy, &decision);
        return res;
    }
    let caller = match resolved {
        Ok(caller) => caller,
        Err(e) => {
            let mut res = e.into_response();
            set_headers(res.headers_mut(), &policy, &decision);
            return res;
        }
    };
    parts.extensions.insert(ResolvedCaller(caller));
    let mut res = next.run(Request::from_parts(parts, body)).await;
    set_headers(res.headers_mut(), &policy, &decision);
    res
}

fn secs_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Writes the rate-limit headers for `decision` (and `Retry-After` when denied).
pub fn set_headers(headers: &mut HeaderMap, policy: &Policy, decision: &Decision) {
    let name = policy.name.as_str();
    let window = policy.window.as_secs();
    let reset = secs_ceil(decision.reset_after);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut put = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    };
    put("ratelimit-policy", format!("\"{name}\";q={};w={window}", decision.limit));
    put("ratelimit", format!("\"{name}\";r={};t={reset}", decision.remaining));
    put("x-ratelimit-limit", decision.limit.to_string());
    put("x-ratelimit-remaining", decision.remaining.to_string());
    put("x-ratelimit-reset", (now + reset).to_string());
    if let Some(retry) = decision.retry_after {
        put("retry-after", secs_ceil(retry).max(1).to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::is_auth_path;

    #[test]
    fn auth_paths_with_or_without_a_version() {
        assert!(is_auth_path("/v1/auth/token"));
        assert!(is_auth_path("/auth/register"));
        assert!(!is_auth_path("/v1/posts"));
        assert!(!is_auth_path("/v1/authors"));
    }
}
