//! `Idempotency-Key` on POST and PATCH under `/api`: the first request with a key runs;
//! its successful response is kept for 24 h per caller and replayed (with
//! `Idempotent-Replayed: true`) to a retry of the same request; the same key with a
//! different request is 422, and a retry while the first still runs is 409.
//! Failed attempts (4xx/5xx) release the key, so a corrected retry may reuse it. Stored
//! responses are sealed under the key (see `services::idempotency`): never kept in clear.
//! Multipart uploads are not covered: their bodies are streamed, never buffered.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderName, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{auth::ResolvedCaller, body_limit::JSON_BODY_LIMIT, client_ip::ip_key};
use crate::{
    error::Error,
    models::{AppError, ErrorCode},
    services::idempotency::{self, Begin, IdempotencyKey, StoredResponse},
    state::AppState,
};

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Responses larger than this are not kept for replay.
const MAX_STORED: usize = 4 * 1024 * 1024;
/// Headers worth replaying (the rest describe the original exchange).
const KEPT: [HeaderName; 4] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG, header::CACHE_CONTROL];

fn valid_key(k: &str) -> bool {
    (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST && req.method() != Method::PATCH {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(&IDEMPOTENCY_KEY) else { return next.run(req).await };
    let Some(key) = raw.to_str().ok().filter(|k| valid_key(k)).map(str::to_string) else {
        return Error::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters.").into_response();
    };
    let multipart = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"multipart/"));
    if multipart {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let scope = match parts.extensions.get::<ResolvedCaller>().and_then(|c| c.0.as_ref()) {
        Some(caller) => format!("user:{}", caller.user.id),
        None => ip_key(&parts, &state.config.trusted_proxies),
    };
    let Ok(bytes) = axum::body::to_bytes(body, JSON_BODY_LIMIT).await else {
        return Error::App(AppError::new(ErrorCode::PayloadTooLarge, "The request body is larger than 1 MiB."))
            .into_response();
    };
    let key = IdempotencyKey::derive(&scope, &key);
    let fingerprint = key.fingerprint(&[
        parts.method.as_str().as_bytes(),
        parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("").as_bytes(),
        parts.headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()).unwrap_or(b""),
        &bytes,
    ]);

    let db = &state.db;
    match idempotency::begin(db, &key, &fingerprint).await {
        Err(e) => e.into_response(),
        Ok(Begin::Mismatch) => Error::App(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            "This Idempotency-Key was already used for a different request.",
        ))
        .into_response(),
        Ok(Begin::InFlight) => Error::App(AppError::conflict(
            "A request with this Idempotency-Key is still being processed; retry in a moment.",
        ))
        .into_response(),
        Ok(Begin::Replay(stored)) => replay(stored),
        Ok(Begin::Proceed) => {
            let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            let streaming =
                res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
            if !res.status().is_success() || streaming {
                // A failure may be retried with the same key; a stream cannot be replayed.
                if let Err(e) = idempotency::abandon(db, &key).await {
                    tracing::warn!(error = %e, "could not release an idempotency key");
                }
                return res;
            }
            let (parts, body) = res.into_parts();
            let Ok(body) = axum::body::to_bytes(body, MAX_STORED).await else {
                let _ = idempotency::abandon(db, &key).await;
                return Error::internal_msg("response too large to keep for idempotent replay").into_response();
            };
            let headers = KEPT
                .iter()
                .filter_map(|n| {
                    parts.headers.get(n).and_then(|v| v.to_str().ok()).map(|v| (n.to_string(), v.to_string()))
                })
                .collect();
            let stored = StoredResponse { status: parts.status.as_u16(), headers, body: body.to_vec() };
            if let Err(e) = idempotency::finish(db, &key, &stored).await {
                tracing::warn!(error = %e, "could not store an idempotent response");
                let _ = idempotency::abandon(db, &key).await;
            }
            Response::from_parts(parts, Body::from(body))
        }
    }
}

fn replay(stored: StoredResponse) -> Response {
    let mut res = Response::new(Body::from(stored.body));
    *res.status_mut() = axum::http::StatusCode::from_u16(stored.status).unwrap_or(axum::http::StatusCode::OK);
    for (k, v) in stored.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            res.headers_mut().insert(k, v);
        }
    }
    res.headers_mut().insert(&IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    res
}
