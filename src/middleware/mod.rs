//! Cross-cutting layers, composed once in `startup::router` and `handlers::router`:
//! request ids and request logs, problem+json rendering, security headers, body
//! limits, timeouts, refused input (NUL), the Origin check for cookie-authenticated writes,
//! server-function error statuses, caller resolution, rate limiting, CORS, idempotency
//! and HTTP caching.

pub mod api_gate;
pub mod auth;
pub mod body_limit;
pub mod client_ip;
pub mod cors;
pub mod edge;
pub mod fn_status;
pub mod http_cache;
pub mod idempotency;
pub mod input_guard;
pub mod origin_check;
pub mod page_cache;
pub mod problem;
pub mod request_id;
pub mod request_metrics;
pub mod security_headers;
pub mod timeout;
