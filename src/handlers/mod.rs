//! The REST API (`/api/...`): explicit axum handlers for external clients. Each handler
//! extracts, calls one service and maps the result; conventions (errors, auth, rate
//! limits, CORS, idempotency, caching, versions, body limits) come from extractors and
//! the layers composed once in [`router`], not from handler code.

pub mod auth;
pub mod batch;
pub mod comments;
pub mod extract;
pub mod graphql;
pub mod health;
pub mod me;
pub mod openapi;
pub mod posts;
pub mod tokens;
pub mod uploads;
pub mod users;
pub mod versioning;

use std::sync::Arc;

use axum::{
    extract::{DefaultBodyLimit, Request},
    middleware::{from_fn, from_fn_with_state},
    routing::{delete, get, post, put},
    Router,
};

use crate::{
    middleware::{api_gate, cors, http_cache, idempotency},
    state::AppState,
};
use versioning::ApiVersion;

/// JSON bodies larger than this are refused with 413.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// One version's resources (v2 changes only the post list's envelope).
fn versioned(version: ApiVersion) -> Router<AppState> {
    let post_list = match version {
        ApiVersion::V1 => get(posts::list),
        ApiVersion::V2 => get(posts::list_v2),
    };
    Router::new()
        .route("/health", get(health::show))
        .route("/auth/register", post(auth::register))
        .route("/auth/token", post(auth::token))
        .route("/me", get(me::show))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::show).patch(users::patch).delete(users::delete))
        .route("/posts", post_list.post(posts::create))
        .route("/posts/{id}", get(posts::show).put(posts::replace).patch(posts::patch).delete(posts::delete))
        .route("/posts/{id}/comments", get(comments::list).post(comments::create))
        .route("/posts/{id}/like", put(comments::like).delete(comments::unlike))
        .route("/comments/{id}", delete(comments::delete))
        .route("/tags", get(comments::tags))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/uploads", post(uploads::create).layer(DefaultBodyLimit::max(uploads::BODY_LIMIT)))
        .route("/batch", post(batch::run))
        .route("/openapi.json", get(openapi::document))
}

/// Everything under `/api`, with the API's layers. Unversioned paths are routed to a
/// version by the fallback; unknown paths answer a 404 problem.
pub fn router(state: AppState) -> Router {
    let versions = Router::new()
        .nest("/v1", versioned(ApiVersion::V1))
        .nest("/v2", versioned(ApiVersion::V2))
        .route("/graphql", get(graphql::handler).post(graphql::handler))
        .route("/docs", get(openapi::docs_page))
        .route("/docs/init.js", get(openapi::docs_init))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .with_state(state.clone());
    let by_version = versions.clone();
    let origins = Arc::new(state.config.cors_origins.clone());

    // Outermost last: CORS answers preflights before anything else runs; the gate resolves
    // the caller and charges the rate limit; then idempotency (writes) and caching (reads).
    versions
        .fallback(move |req: Request| versioning::dispatch(by_version.clone(), req))
        .layer(from_fn_with_state(state.clone(), http_cache::layer))
        .layer(from_fn_with_state(state.clone(), idempotency::layer))
        .layer(from_fn_with_state(state.clone(), api_gate::layer))
        .layer(from_fn(versioning::check_header))
        .layer(cors::layer(&origins))
        .layer(from_fn(move |req, next| cors::preflight(origins.clone(), req, next)))
}
