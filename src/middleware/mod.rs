//! Cross-cutting layers, composed once in `startup::router`: request ids and request
//! logs, problem+json rendering, security headers, the server-function Origin check,
//! and caller resolution (session cookie or bearer token).

pub mod auth;
pub mod origin_check;
pub mod problem;
pub mod request_id;
pub mod security_headers;
