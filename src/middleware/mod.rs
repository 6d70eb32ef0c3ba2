//! Cross-cutting layers, composed once in `startup::router` and `handlers::router`:
//! request ids and request logs, problem+json rendering, security headers, the
//! server-function Origin check, caller resolution, rate limiting, CORS, idempotency
//! and HTTP caching.

pub mod api_gate;
pub mod auth;
pub mod client_ip;
pub mod cors;
pub mod http_cache;
pub mod idempotency;
pub mod origin_check;
pub mod problem;
pub mod request_id;
pub mod security_headers;
