//! Sign-in, registration, sign-out and "who am I" for the web UI.

use leptos::prelude::*;

use crate::models::{AppError, User};
#[cfg(feature = "ssr")]
use crate::{
    middleware::auth::{sign_in, sign_out},
    models::{
        validation::{safe_next, Credentials, NewAccount},
        Role,
    },
    server_fns::ctx::Ctx,
    services::accounts,
};

/// The signed-in user, or `None`.
#[server(prefix = "/fn", endpoint = "current_user")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn current_user() -> Result<Option<User>, AppError> {
    Ctx::get()?.user().await
}

/// Whether the page being rendered may have a signed-in reader: its request carries the
/// session cookie. Without one, pages need not ask who is signed in. (In the browser, where
/// only the server could tell, always true.)
pub fn may_be_signed_in() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .is_none_or(|p| crate::middleware::page_cache::has_session_cookie(&p.headers))
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

/// Signs in and goes to `next` (a same-site path) or the dashboard.
#[server(prefix = "/fn", endpoint = "login")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    cx.limit_auth_attempt().await?;
    let creds = cx.check(Credentials::parse(&email, &password))?;
    let user = cx.call(accounts::authenticate(&cx.state.db, creds)).await?;
    cx.call(sign_in(&cx.state.db, cx.session()?, user.id)).await?;
    cx.redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Creates an account, signs it in and goes to `next` or the dashboard.
#[server(prefix = "/fn", endpoint = "register")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn register(email: String, name: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    cx.limit_auth_attempt().await?;
    let account = cx.check(NewAccount::parse(&email, &name, &password))?;
    let user = cx.call(accounts::register(&cx.state.db, account, Role::User)).await?;
    cx.call(sign_in(&cx.state.db, cx.session()?, user.id)).await?;
    cx.redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends the session and goes home.
#[server(prefix = "/fn", endpoint = "logout")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn logout() -> Result<(), AppError> {
    let cx = Ctx::get()?;
    cx.call(sign_out(cx.session()?)).await?;
    cx.redirect("/");
    Ok(())
}
