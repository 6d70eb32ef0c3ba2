//! The server's one error type. Services return it; server functions turn it into the
//! client-safe [`AppError`]; REST handlers turn it into a problem+json response
//! (rendered, with the request id, by `middleware::problem`). An internal cause is
//! logged with the request id and never sent to a client.

use std::sync::Arc;

use crate::models::{AppError, ErrorCode, FieldError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A failure the caller caused and may see: a code, a message, maybe field errors.
    #[error("{0}")]
    App(AppError),
    /// A fault on our side; the cause is logged, the caller sees only INTERNAL_ERROR.
    #[error("internal error: {0}")]
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Error::App(AppError::validation(errors))
    }
    pub fn field(field: &str, message: &str) -> Self {
        Error::validation(vec![FieldError::new(field, message)])
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Error::App(AppError::unauthorized(message))
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::App(AppError::forbidden(message))
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::App(AppError::not_found(message))
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::App(AppError::bad_request(message))
    }
    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Internal(Arc::new(cause))
    }
    pub fn internal_msg(message: impl Into<String>) -> Self {
        Error::Internal(Arc::new(std::io::Error::other(message.into())))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::App(e) => e.code,
            Error::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// What the client may see. Logging internal causes is the caller's edge's job
    /// (the problem middleware for REST, [`From<Error> for AppError`] for server functions).
    pub fn public(&self) -> AppError {
        match self {
            Error::App(e) => e.clone(),
            Error::Internal(_) => AppError::internal(),
        }
    }
}

/// An input rule's refusal: each failing field (422).
impl From<Vec<FieldError>> for Error {
    fn from(errors: Vec<FieldError>) -> Self {
        Error::validation(errors)
    }
}

impl From<AppError> for Error {
    fn from(e: AppError) -> Self {
        Error::App(e)
    }
}

/// A database that is busy (SQLite's lock held past the busy timeout, or no pooled connection
/// free in time) is an overload, not a fault: 503, which a client may retry. So is a pool
/// closed by a graceful shutdown: the work still running then (a page whose client went away
/// mid-render, whose loads Leptos runs as tasks of their own) gets a 503, not an error log.
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        let message = match &e {
            sqlx::Error::PoolClosed => "The server is shutting down; try again in a moment.",
            e if crate::db::is_busy(e) => "The server is busy; try again in a moment.",
            _ => return Error::internal(e),
        };
        match e {
            sqlx::Error::PoolClosed => tracing::debug!("database pool closed: shutting down"),
            _ => tracing::warn!(error = %e, "database busy"),
        }
        Error::App(AppError::new(crate::models::ErrorCode::ServiceUnavailable, message))
    }
}

impl From<tower_sessions::session::Error> for Error {
    fn from(e: tower_sessions::session::Error) -> Self {
        Error::internal(e)
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::internal(e)
    }
}

/// Server functions: the browser gets the public part; the cause goes to the log
/// (inside the request's span, so with its request id).
impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        if let Error::Internal(cause) = &e {
            tracing::error!(error = %cause, "server function failed");
        }
        e.public()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ErrorCode;

    #[test]
    fn a_closed_pool_is_unavailable_not_a_fault() {
        let e = Error::from(sqlx::Error::PoolClosed);
        assert!(!matches!(e, Error::Internal(_)));
        assert_eq!(e.public().code, ErrorCode::ServiceUnavailable);
        assert_eq!(Error::from(sqlx::Error::PoolTimedOut).public().code, ErrorCode::ServiceUnavailable);
        assert_eq!(Error::from(sqlx::Error::RowNotFound).public().code, ErrorCode::InternalError);
    }
}
