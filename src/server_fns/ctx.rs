//! Server-side context for server functions. Everything a server function needs from
//! Leptos' reactive context (state, request parts, response options) is read once, at
//! its start, into a [`Ctx`]: after an `.await` the reactive owner may be gone (a
//! resource's page re-rendered, say), so nothing reads context later.

use axum::http::{header, request::Parts, HeaderName, HeaderValue, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::{
    error::Error,
    middleware::{auth::session_user, problem::status_for},
    models::{AppError, User},
    state::AppState,
};

pub struct Ctx {
    pub state: AppState,
    session: Option<Session>,
    plain_form: bool,
    response: Option<ResponseOptions>,
}

impl Ctx {
    /// Captures the context. Call it first thing, before any `.await`.
    pub fn get() -> Result<Self, AppError> {
        let state = use_context::<AppState>().ok_or_else(|| {
            tracing::error!("server function called without AppState in context");
            AppError::internal()
        })?;
        let parts = use_context::<Parts>();
        let plain_form = parts
            .as_ref()
            .and_then(|p| p.headers.get(header::ACCEPT))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
        let session = parts.as_ref().and_then(|p| p.extensions.get::<Session>().cloned());
        Ok(Ctx { state, session, plain_form, response: use_context::<ResponseOptions>() })
    }

    pub fn session(&self) -> Result<&Session, AppError> {
        self.session.as_ref().ok_or_else(|| {
            tracing::error!("session layer missing");
            AppError::internal()
        })
    }

    /// The signed-in user, if any.
    pub async fn user(&self) -> Result<Option<User>, AppError> {
        session_user(&self.state.db, self.session()?).await.map_err(|e| self.fail(e))
    }

    /// The signed-in user, or UNAUTHORIZED.
    pub async fn signed_in(&self) -> Result<User, AppError> {
        self.user().await?.ok_or_else(|| self.fail(Error::unauthorized("Sign in first.")))
    }

    /// Maps a service error for the browser. A fetch from the hydrated app gets the error's
    /// own status (422, 401…); a plain form post keeps the redirect back to its page, which
    /// then shows the error.
    pub fn fail(&self, e: impl Into<Error>) -> AppError {
        let public: AppError = e.into().into();
        if !self.plain_form {
            if let Some(res) = &self.response {
                res.set_status(status_for(public.code));
            }
        }
        public
    }
}

impl Ctx {
    /// Sends the browser to `path` after this call: a 302 for a plain form post, the
    /// server-function redirect header for the hydrated app.
    pub fn redirect(&self, path: &str) {
        let (Some(res), Ok(location)) = (&self.response, HeaderValue::from_str(path)) else { return };
        res.insert_header(header::LOCATION, location);
        if self.plain_form {
            res.set_status(StatusCode::FOUND);
        } else {
            res.insert_header(
                HeaderName::from_static(leptos::server_fn::redirect::REDIRECT_HEADER),
                HeaderValue::from_static(""),
            );
        }
    }
}

/// Sets a page's HTTP status during server rendering (403, 404…).
pub fn set_status(status: StatusCode) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(status);
    }
}
