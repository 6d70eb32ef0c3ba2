//! Server-side helpers for server functions: reaching the state and the session,
//! and turning a service error into the typed `AppError` with the right status.

use axum::http::{header, StatusCode};
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::{error::Error, middleware::problem::status_for, models::AppError, state::AppState};

pub fn state() -> AppState {
    expect_context::<AppState>()
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::internal()
    })
}

/// Maps a service error for the browser. A fetch from the hydrated app gets the error's
/// own status (422, 401…); a plain form post keeps the redirect back to its page, which
/// then shows the error.
pub fn fail(e: impl Into<Error>) -> AppError {
    let public: AppError = e.into().into();
    let plain_form = use_context::<axum::http::request::Parts>()
        .and_then(|p| p.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(|a| a.contains("text/html")))
        .unwrap_or(false);
    if !plain_form {
        if let Some(res) = use_context::<ResponseOptions>() {
            res.set_status(status_for(public.code));
        }
    }
    public
}

/// Sets a page's HTTP status during server rendering (403, 404…).
pub fn set_status(status: StatusCode) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(status);
    }
}

/// The signed-in user, or an UNAUTHORIZED error.
pub async fn signed_in() -> Result<crate::models::User, AppError> {
    let state = state();
    crate::middleware::auth::session_user(&state.db, &session().await?)
        .await
        .map_err(fail)?
        .ok_or_else(|| fail(Error::unauthorized("Sign in first.")))
}
