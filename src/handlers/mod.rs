//! The REST API (`/api/...`): explicit axum handlers for external clients. Each handler
//! extracts, calls one service and maps the result; conventions (errors, auth, rate
//! limits, CORS, idempotency, caching, versions, body limits) come from extractors and
//! the layers composed once in [`router`], not from handler code.

pub mod auth;
pub mod batch;
pub mod comments;
pub mod events;
pub mod extract;
pub mod graphql;
pub mod health;
pub mod me;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod posts;
pub mod reports;
pub mod tokens;
pub mod uploads;
pub mod users;
pub mod versioning;
pub mod webhooks;

use std::sync::Arc;

use axum::{
    extract::{DefaultBodyLimit, Request},
    middleware::{from_fn, from_fn_with_state},
    routing::{delete, get, post, put, MethodRouter},
    Router,
};
use tower::ServiceBuilder;

use crate::{
    middleware::{api_gate, cors, http_cache, idempotency, request_metrics},
    state::AppState,
};
use versioning::ApiVersion;

pub use crate::middleware::body_limit::JSON_BODY_LIMIT;

/// One version's resources (v2 changes only the post list's envelope). `l` puts the API's
/// per-request layers on each route's methods (a method a route lacks gets its 405 first).
fn versioned<L>(version: ApiVersion, l: &L) -> Router<AppState>
where
    L: Fn(MethodRouter<AppState>) -> MethodRouter<AppState>,
{
    let post_list = match version {
        ApiVersion::V1 => get(posts::list),
        ApiVersion::V2 => get(posts::list_v2),
    };
    Router::new()
        .route("/health", l(get(health::show)))
        .route("/ready", l(get(health::ready)))
        .route("/admin/ops/events", l(get(ops::stream)))
        .route("/auth/register", l(post(auth::register)))
        .route("/auth/token", l(post(auth::token)))
        .route("/me", l(get(me::show)))
        .route("/users", l(get(users::list).post(users::create)))
        .route("/users/{id}", l(get(users::show).patch(users::patch).delete(users::delete)))
        .route("/posts", l(post_list.post(posts::create)))
        .route("/posts/{id}", l(get(posts::show).put(posts::replace).patch(posts::patch).delete(posts::delete)))
        .route("/posts/{id}/comments", l(get(comments::list).post(comments::create)))
        .route("/posts/{id}/events", l(get(events::post_stream)))
        .route("/events", l(get(events::stream)))
        .route("/notifications", l(get(notifications::list)))
        .route("/notifications/read", l(post(notifications::mark_read)))
        .route("/reports", l(get(reports::list).post(reports::create)))
        .route("/reports/{id}/download", l(get(reports::download)))
        .route("/posts/{id}/like", l(put(comments::like).delete(comments::unlike)))
        .route("/comments/{id}", l(delete(comments::delete)))
        .route("/tags", l(get(comments::tags)))
        .route("/tokens", l(get(tokens::list).post(tokens::create)))
        .route("/tokens/{id}", l(delete(tokens::revoke)))
        .route("/uploads", l(post(uploads::create)).layer(DefaultBodyLimit::max(uploads::BODY_LIMIT)))
        .route("/batch", l(post(batch::run)))
        .route("/openapi.json", l(get(openapi::document)))
}

/// Everything under `/api`, with the API's layers. Unversioned paths are routed to a
/// version by the fallback; unknown paths answer a 404 problem.
pub fn router(state: AppState) -> Router {
    // Per request, in this order: an unknown Accept-Version is refused; the gate resolves the
    // caller and charges the rate limit; then idempotency (writes) and caching (reads).
    // Outermost, the route's template is remembered for the metrics (cache hits included).
    let stack = ServiceBuilder::new()
        .layer(from_fn(request_metrics::remember_route))
        .layer(from_fn(versioning::check_header))
        .layer(from_fn_with_state(state.clone(), api_gate::layer))
        .layer(from_fn_with_state(state.clone(), idempotency::layer))
        .layer(from_fn_with_state(state.clone(), http_cache::layer));
    let l = move |m: MethodRouter<AppState>| m.route_layer(stack.clone());

    let versions = Router::new()
        .nest("/v1", versioned(ApiVersion::V1, &l))
        .nest("/v2", versioned(ApiVersion::V2, &l))
        .route("/graphql", l(get(graphql::handler).post(graphql::handler)))
        .route("/docs", l(get(openapi::docs_page)))
        .route("/docs/init.js", l(get(openapi::docs_init)))
        // Providers sign their deliveries; no session, token or rate limit applies.
        .route("/webhooks/stripe", post(webhooks::stripe).route_layer(from_fn(request_metrics::remember_route)))
        .route("/webhooks/github", post(webhooks::github).route_layer(from_fn(request_metrics::remember_route)))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .with_state(state.clone());
    let by_version = versions.clone();
    let origins = Arc::new(state.config.cors_origins.clone());

    // CORS wraps everything, so preflights are answered before anything else runs and every
    // answer (errors included) carries the CORS headers a browser needs to read it.
    versions
        .fallback(move |req: Request| versioning::dispatch(by_version.clone(), req))
        .layer(cors::layer(&origins))
        .layer(from_fn(move |req, next| cors::preflight(origins.clone(), req, next)))
}
