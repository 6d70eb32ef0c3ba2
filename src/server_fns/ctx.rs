//! Server-side context for server functions. Everything a server function needs from
//! Leptos' reactive context (state, request parts, response options) is read once, at
//! its start, into a [`Ctx`]: after an `.await` the reactive owner may be gone (a
//! resource's page re-rendered, say), so nothing reads context later.

use std::future::Future;

use axum::http::{header, request::Parts, HeaderName, HeaderValue, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::{
    error::Error,
    middleware::{api_gate, auth::session_user, client_ip, problem::status_for},
    models::{AppError, ErrorCode, User},
    state::AppState,
};

pub struct Ctx {
    pub state: AppState,
    /// The client's rate-limit key (its address).
    ip_key: String,
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
        let ip_key = match &parts {
            Some(p) => client_ip::ip_key(p, &state.config.trusted_proxies),
            None => "ip:unknown".to_string(),
        };
        Ok(Ctx { state, ip_key, session, plain_form, response: use_context::<ResponseOptions>() })
    }

    /// Charges a sign-in or registration attempt to the client's strict budget (the same
    /// one `/api/v1/auth/*` draws from); when it is spent the form shows why (429).
    pub async fn limit_auth_attempt(&self) -> Result<(), AppError> {
        let limiter = &self.state.limiter;
        let decision = limiter.hit(&limiter.auth, &self.ip_key).await;
        if let Some(res) = &self.response {
            let mut headers = axum::http::HeaderMap::new();
            api_gate::set_headers(&mut headers, &limiter.auth, &decision);
            for (name, value) in headers.iter() {
                res.insert_header(name.clone(), value.clone());
            }
        }
        if decision.allowed {
            return Ok(());
        }
        let wait = decision.retry_after.map(|d| d.as_secs().max(1)).unwrap_or(60);
        Err(self.fail(Error::App(AppError::new(
            ErrorCode::RateLimited,
            format!("Too many attempts from your address. Try again in {wait} seconds."),
        ))))
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

    /// The signed-in user's id, without loading the account (for reads keyed by it alone).
    pub async fn user_id(&self) -> Result<Option<i64>, AppError> {
        crate::middleware::auth::session_user_id(self.session()?).await.map_err(|e| self.fail(e))
    }

    /// The signed-in user, or UNAUTHORIZED.
    pub async fn signed_in(&self) -> Result<User, AppError> {
        self.user().await?.ok_or_else(|| self.fail(Error::unauthorized("Sign in first.")))
    }

    /// Awaits a service call, its error mapped for the browser (see [`Ctx::fail`]).
    pub async fn call<T, E: Into<Error>>(&self, call: impl Future<Output = Result<T, E>>) -> Result<T, AppError> {
        call.await.map_err(|e| self.fail(e))
    }

    /// An input rule's verdict, its refusal mapped for the browser (see [`Ctx::fail`]).
    pub fn check<T, E: Into<Error>>(&self, verdict: Result<T, E>) -> Result<T, AppError> {
        verdict.map_err(|e| self.fail(e))
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
