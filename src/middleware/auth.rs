//! Who is calling: a bearer token (`Authorization: Bearer …`) or the browser session.
//! REST handlers ask for a [`Caller`] (401 without one) or an `Option<Caller>`;
//! server functions use the session helpers below.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{header, request::Parts},
};
use tower_sessions::Session;

use crate::{
    db::Db,
    error::{Error, Result},
    models::User,
    services::{
        accounts,
        tokens::{self, Scopes},
    },
    state::AppState,
};

const USER_ID_KEY: &str = "user_id";

#[derive(Debug, Clone)]
pub enum AuthMethod {
    Session,
    Token { token_id: i64, scopes: Scopes },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub method: AuthMethod,
}

impl Caller {
    /// Whether this caller may change data (session users always; tokens need `write`).
    pub fn can_write(&self) -> bool {
        match &self.method {
            AuthMethod::Session => true,
            AuthMethod::Token { scopes, .. } => scopes.write,
        }
    }
}

/// Signs `user_id` in: a new session id (so a planted id is worthless), then the user.
pub async fn sign_in(session: &Session, user_id: i64) -> Result<()> {
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user_id).await?;
    Ok(())
}

/// Destroys the session, in the store and in the browser.
pub async fn sign_out(session: &Session) -> Result<()> {
    session.flush().await?;
    Ok(())
}

/// The user signed in on this session, if any (and if the account still exists).
pub async fn session_user(db: &Db, session: &Session) -> Result<Option<User>> {
    match session.get::<i64>(USER_ID_KEY).await? {
        Some(id) => accounts::find(db, id).await,
        None => Ok(None),
    }
}

/// Resolves the caller of a request. A presented but bad bearer token is an error
/// (never silently downgraded to the cookie); no credentials at all is `Ok(None)`.
pub async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Caller>> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| Error::unauthorized("The Authorization header must be `Bearer <token>`."))?;
        return match tokens::resolve(&state.db, token).await? {
            Some(found) => Ok(Some(Caller {
                user: found.user,
                method: AuthMethod::Token { token_id: found.token_id, scopes: found.scopes },
            })),
            None => Err(Error::unauthorized("The token is invalid, expired or revoked.")),
        };
    }
    let Some(session) = parts.extensions.get::<Session>() else { return Ok(None) };
    Ok(session_user(&state.db, session).await?.map(|user| Caller { user, method: AuthMethod::Session }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        resolve(parts, state).await?.ok_or_else(|| Error::unauthorized("Authentication required."))
    }
}

impl OptionalFromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>> {
        resolve(parts, state).await
    }
}
