//! Opaque bearer tokens. The secret is 32 random bytes shown once; the database keeps
//! only its SHA-256 (a high-entropy secret needs no slow hash), so a leaked table
//! grants nothing.

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{
    db::{self, api_tokens::NewToken, Db},
    error::{Error, Result},
    models::{ApiToken, CreatedToken, NewTokenRequest, User},
};

/// Every secret starts with this, so leaked tokens are easy to recognise in logs and scanners.
pub const PREFIX: &str = "qrt_";
/// `last_used_at` is refreshed at most this often, to keep reads from turning into writes.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes {
    pub read: bool,
    pub write: bool,
}

impl Scopes {
    pub const ALL: Scopes = Scopes { read: true, write: true };

    pub fn parse(s: &str) -> Scopes {
        let mut out = Scopes::default();
        for part in s.split_whitespace() {
            match part {
                "read" => out.read = true,
                "write" => out.write = true,
                _ => {}
            }
        }
        out
    }

    pub fn to_db(&self) -> String {
        match (self.read, self.write) {
            (true, true) => "read write".into(),
            (true, false) => "read".into(),
            (false, true) => "write".into(),
            (false, false) => String::new(),
        }
    }
}

/// A freshly issued token: the only moment the secret exists outside the client.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: DateTime<Utc>,
}

/// The identity behind a presented bearer token.
#[derive(Debug, Clone)]
pub struct TokenIdentity {
    pub user: User,
    pub scopes: Scopes,
    pub token_id: i64,
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Issues a read-write token for a user who just proved their password.
pub async fn issue_login_token(db: &Db, user_id: i64, ttl: Duration) -> Result<IssuedToken> {
    let now = Utc::now();
    let ttl = chrono::TimeDelta::from_std(ttl).map_err(Error::internal)?;
    let expires_at = now + ttl;
    let secret = new_secret();
    let hash = hash_secret(&secret);
    let mut conn = db.acquire().await?;
    db::api_tokens::insert(
        conn.conn(),
        &NewToken {
            user_id,
            name: "API login",
            token_hash: &hash,
            scopes: &Scopes::ALL.to_db(),
            expires_at: Some(expires_at),
            now,
        },
    )
    .await?;
    Ok(IssuedToken { token: secret, token_type: "Bearer", expires_at })
}

fn to_api(row: db::api_tokens::TokenRow) -> ApiToken {
    let scopes = Scopes::parse(&row.scopes);
    let mut list = Vec::new();
    if scopes.read {
        list.push("read".to_string());
    }
    if scopes.write {
        list.push("write".to_string());
    }
    ApiToken {
        id: row.id,
        name: row.name,
        scopes: list,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        created_at: row.created_at,
    }
}

/// Creates a personal access token for `user`; the secret is in the result and nowhere else.
pub async fn create_personal(db: &Db, user: &User, req: NewTokenRequest) -> Result<CreatedToken> {
    let now = Utc::now();
    let expires_at = req.expires_in_days.map(|d| now + chrono::TimeDelta::days(d));
    let secret = new_secret();
    let hash = hash_secret(&secret);
    let scopes = Scopes { read: req.read, write: req.write }.to_db();
    let mut conn = db.acquire().await?;
    let id = db::api_tokens::insert(
        conn.conn(),
        &NewToken { user_id: user.id, name: &req.name, token_hash: &hash, scopes: &scopes, expires_at, now },
    )
    .await?;
    let row = db::api_tokens::find(conn.conn(), id, user.id)
        .await?
        .ok_or_else(|| Error::internal_msg("token vanished after insert"))?;
    tracing::info!(user_id = user.id, token_id = id, "personal access token created");
    Ok(CreatedToken { info: to_api(row), token: secret })
}

/// The user's live (unrevoked) tokens, newest first.
pub async fn list(db: &Db, user: &User) -> Result<Vec<ApiToken>> {
    let mut conn = db.acquire().await?;
    Ok(db::api_tokens::list_for_user(conn.conn(), user.id).await?.into_iter().map(to_api).collect())
}

/// Revokes one of the user's tokens (someone else's is "not found").
pub async fn revoke(db: &Db, user: &User, id: i64) -> Result<()> {
    let mut conn = db.acquire().await?;
    if db::api_tokens::revoke(conn.conn(), id, user.id, Utc::now()).await? {
        tracing::info!(user_id = user.id, token_id = id, "token revoked");
        Ok(())
    } else {
        Err(Error::not_found("No such token."))
    }
}

/// Resolves a presented secret to its owner, if the token is live. Refreshes `last_used_at`
/// in the background when it is older than a minute.
pub async fn resolve(db: &Db, secret: &str) -> Result<Option<TokenIdentity>> {
    if !secret.starts_with(PREFIX) || secret.len() > 128 {
        return Ok(None);
    }
    let now = Utc::now();
    let found = {
        let mut conn = db.acquire().await?;
        db::api_tokens::find_live_by_hash(conn.conn(), &hash_secret(secret), now).await?
    };
    let Some(found) = found else { return Ok(None) };
    if found.last_used_at.is_none_or(|t| now - t > TOUCH_EVERY) {
        let db = db.clone();
        let id = found.token_id;
        tokio::spawn(async move {
            if let Ok(mut conn) = db.acquire().await {
                if let Err(e) = db::api_tokens::touch_last_used(conn.conn(), id, now).await {
                    tracing::warn!(error = %e, token_id = id, "could not record token use");
                }
            }
        });
    }
    Ok(Some(TokenIdentity {
        scopes: Scopes::parse(&found.scopes),
        token_id: found.token_id,
        user: found.user.into_user(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_hashed_to_hex() {
        let a = new_secret();
        let b = new_secret();
        assert!(a.starts_with(PREFIX));
        assert_ne!(a, b);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), hash_secret(&b));
    }

    #[test]
    fn scopes_round_trip() {
        assert_eq!(Scopes::parse("read write"), Scopes::ALL);
        assert_eq!(Scopes::parse(&Scopes { read: true, write: false }.to_db()), Scopes { read: true, write: false });
    }
}
