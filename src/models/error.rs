//! The error that crosses from the server to the browser (server functions) and
//! that the REST API renders as problem+json. It holds only what a client may see:
//! a stable code, a human message and, for validation, the failing fields.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable machine-readable error codes (spec section 4, "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadRequest,
    ValidationError,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
    PayloadTooLarge,
    UnsupportedMediaType,
    IdempotencyKeyReused,
    RateLimited,
    ServiceUnavailable,
    /// The client stopped sending its request (an upload that stalled).
    RequestTimeout,
    Timeout,
    InternalError,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::BadRequest,
        ErrorCode::ValidationError,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PreconditionFailed,
        ErrorCode::PreconditionRequired,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::RateLimited,
        ErrorCode::ServiceUnavailable,
        ErrorCode::RequestTimeout,
        ErrorCode::Timeout,
        ErrorCode::InternalError,
    ];

    /// The code named `name` (its [`as_str`](Self::as_str) text, as serialised).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::PreconditionFailed => "PRECONDITION_FAILED",
            ErrorCode::PreconditionRequired => "PRECONDITION_REQUIRED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::InternalError => "INTERNAL_ERROR",
        }
    }
}

/// One failing input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// What a failed operation tells its caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a stale write (optimistic locking): the version the resource is at now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), errors: Vec::new(), current_version: None }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self {
            code: ErrorCode::ValidationError,
            message: "Some fields need another look.".into(),
            errors,
            current_version: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    /// A write against a version that is no longer current (REST answers it as 412).
    pub fn stale(message: impl Into<String>, current_version: i64) -> Self {
        Self { current_version: Some(current_version), ..Self::new(ErrorCode::Conflict, message) }
    }
    /// The only message an internal failure ever shows.
    pub fn internal() -> Self {
        Self::new(ErrorCode::InternalError, "Something went wrong on our side. Please try again.")
    }

    /// The message for one field, if that field failed.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == name).map(|e| e.message.as_str())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

// Server functions return `AppError` directly, so the browser gets the same typed error
// (and, without JavaScript, the same error decoded from the redirect URL).
impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(_) | E::MissingArg(_) | E::Deserialization(_) | E::Serialization(_) => {
                AppError::bad_request("The form could not be read. Please try again.")
            }
            E::Request(_) => AppError::new(
                ErrorCode::ServiceUnavailable,
                "The server could not be reached. Check your connection and try again.",
            ),
            _ => AppError::internal(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_serialised_name() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
        }
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::from_name("conflict"), None);
        assert_eq!(ErrorCode::from_name(""), None);
    }
}
