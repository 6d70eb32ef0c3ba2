//! Sign-in, registration, sign-out and "who am I" for the web UI.

use leptos::prelude::*;

use crate::models::{AppError, User};
#[cfg(feature = "ssr")]
use crate::{
    error::Error,
    middleware::auth::{session_user, sign_in, sign_out},
    models::{
        validation::{safe_next, Credentials, NewAccount},
        Role,
    },
    server_fns::ctx::{self, fail},
    services::accounts,
};

/// The signed-in user, or `None`.
#[server(prefix = "/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    let state = ctx::state();
    let session = ctx::session().await?;
    session_user(&state.db, &session).await.map_err(fail)
}

/// Signs in and goes to `next` (a same-site path) or the dashboard.
#[server(prefix = "/fn", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let creds = Credentials::parse(&email, &password).map_err(|e| fail(Error::validation(e)))?;
    let state = ctx::state();
    let user = accounts::authenticate(&state.db, creds).await.map_err(fail)?;
    sign_in(&ctx::session().await?, user.id).await.map_err(fail)?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Creates an account, signs it in and goes to `next` or the dashboard.
#[server(prefix = "/fn", endpoint = "register")]
pub async fn register(email: String, name: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let account = NewAccount::parse(&email, &name, &password).map_err(|e| fail(Error::validation(e)))?;
    let state = ctx::state();
    let user = accounts::register(&state.db, account, Role::User).await.map_err(fail)?;
    sign_in(&ctx::session().await?, user.id).await.map_err(fail)?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends the session and goes home.
#[server(prefix = "/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    sign_out(&ctx::session().await?).await.map_err(fail)?;
    leptos_axum::redirect("/");
    Ok(())
}
