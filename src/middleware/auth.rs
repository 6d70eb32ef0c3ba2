//! Who is calling: a bearer token (`Authorization: Bearer …`) or the browser session.
//! REST handlers ask for a [`Caller`] (401 without one) or an `Option<Caller>`;
//! server functions use the session helpers below.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{header, request::Parts},
};
use tower_sessions::{session::Id as SessionId, Session};

use crate::{
    db::Db,
    error::{Error, Result},
    models::User,
    services::{
        accounts::{self, EPOCH_KEY, USER_ID_KEY},
        streams::Credential,
        tokens::{self, Scopes},
    },
    state::AppState,
};

#[derive(Debug, Clone)]
pub enum AuthMethod {
    /// The browser session (its id, for checking later that it still stands).
    Session {
        id: Option<SessionId>,
    },
    Token {
        token_id: i64,
        scopes: Scopes,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub method: AuthMethod,
}

impl Caller {
    /// The credential this caller presented, for checking later that it still stands.
    pub fn credential(&self) -> Credential {
        match &self.method {
            AuthMethod::Session { id: Some(id) } => Credential::Session { id: *id, user_id: self.user.id },
            // A session without an id was never stored, so it cannot hold a user: not reached.
            AuthMethod::Session { id: None } => Credential::Anonymous,
            AuthMethod::Token { token_id, .. } => Credential::Token { id: *token_id },
        }
    }

    /// Whether this caller may change data (session users always; tokens need `write`).
    pub fn can_write(&self) -> bool {
        match &self.method {
            AuthMethod::Session { .. } => true,
            AuthMethod::Token { scopes, .. } => scopes.write,
        }
    }
}

/// Signs `user_id` in: a new session id (so a planted id is worthless), then the user and
/// their current session epoch.
pub async fn sign_in(db: &Db, session: &Session, user_id: i64) -> Result<()> {
    let epoch = accounts::auth_epoch(db, user_id).await?.ok_or_else(|| Error::unauthorized("No such account."))?;
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user_id).await?;
    session.insert(EPOCH_KEY, epoch).await?;
    Ok(())
}

/// After a password change: this session gets a new id and the account's new epoch (every
/// other session of the account keeps the old one, and is thereby signed out).
pub async fn renew(session: &Session, epoch: i64) -> Result<()> {
    session.cycle_id().await?;
    session.insert(EPOCH_KEY, epoch).await?;
    Ok(())
}

/// Destroys the session, in the store and in the browser.
pub async fn sign_out(session: &Session) -> Result<()> {
    session.flush().await?;
    Ok(())
}

/// The id of the user signed in on this session, if any (no database look-up of the account).
pub async fn session_user_id(session: &Session) -> Result<Option<i64>> {
    Ok(session.get::<i64>(USER_ID_KEY).await?)
}

/// The user signed in on this session, if any: the account still exists and its password
/// has not changed since this session signed in.
pub async fn session_user(db: &Db, session: &Session) -> Result<Option<User>> {
    let Some(id) = session_user_id(session).await? else { return Ok(None) };
    let epoch = session.get::<i64>(EPOCH_KEY).await?.unwrap_or(0);
    accounts::find_session_user(db, id, epoch).await
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
    let id = session.id();
    Ok(session_user(&state.db, session).await?.map(|user| Caller { user, method: AuthMethod::Session { id } }))
}

/// The caller as the API gate resolved it, once per request (so handlers, the rate
/// limiter, idempotency and the cache all agree on who is calling without asking twice).
#[derive(Debug, Clone)]
pub struct ResolvedCaller(pub Option<Caller>);

async fn caller_of(parts: &Parts, state: &AppState) -> Result<Option<Caller>> {
    match parts.extensions.get::<ResolvedCaller>() {
        Some(resolved) => Ok(resolved.0.clone()),
        None => resolve(parts, state).await,
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        caller_of(parts, state).await?.ok_or_else(|| Error::unauthorized("Authentication required."))
    }
}

impl OptionalFromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>> {
        caller_of(parts, state).await
    }
}

/// A caller allowed to change data: a session, or a token with the `write` scope.
#[derive(Debug, Clone)]
pub struct Writer(pub Caller);

impl FromRequestParts<AppState> for Writer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let caller = <Caller as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        if caller.can_write() {
            Ok(Writer(caller))
        } else {
            Err(Error::forbidden("This token is read-only; writing needs a token with the `write` scope."))
        }
    }
}

/// A caller signed in with the browser session (token management is not open to tokens).
#[derive(Debug, Clone)]
pub struct SessionCaller(pub Caller);

impl FromRequestParts<AppState> for SessionCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let caller = <Caller as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        match caller.method {
            AuthMethod::Session { .. } => Ok(SessionCaller(caller)),
            AuthMethod::Token { .. } => {
                Err(Error::forbidden("Tokens are managed from a signed-in browser session, not with a token."))
            }
        }
    }
}
