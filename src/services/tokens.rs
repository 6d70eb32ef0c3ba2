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
    pub expires_at: Option<DateTime<Utc>>,
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
        forget_token(id);
        tracing::info!(user_id = user.id, token_id = id, "token revoked");
        Ok(())
    } else {
        Err(Error::not_found("No such token."))
    }
}

/// Resolved bearer tokens, kept briefly so an authenticated read costs no database round trip.
///
/// Revocation-safe: revoking a token, and any change to (or deletion of) its owner's account,
/// forgets the entries at once in this process ([`forget_token`], [`forget_user`]); other
/// processes hold an entry at most [`IDENTITY_TTL`]. It is one cache per process (not per
/// application state) because the services that change identities — token revocation, account
/// changes, billing — run without HTTP state; keys are token hashes, so processes that host
/// several applications (the tests) cannot mix them up.
struct Cached {
    identity: TokenIdentity,
    /// Unix seconds of the last `last_used_at` write for this token (at most one a minute).
    last_touch: std::sync::atomic::AtomicI64,
}

/// How long a resolved token is trusted without asking the database again.
pub const IDENTITY_TTL: std::time::Duration = std::time::Duration::from_secs(5);

fn identities() -> &'static moka::sync::Cache<String, std::sync::Arc<Cached>> {
    static CACHE: std::sync::OnceLock<moka::sync::Cache<String, std::sync::Arc<Cached>>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| {
        moka::sync::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(IDENTITY_TTL)
            .support_invalidation_closures()
            .build()
    })
}

/// Forgets the cached identity of token `id` (it was revoked).
pub fn forget_token(id: i64) {
    let _ = identities().invalidate_entries_if(move |_, c| c.identity.token_id == id);
}

/// Forgets every cached token of `user_id` (the account changed or is gone).
pub fn forget_user(user_id: i64) {
    let _ = identities().invalidate_entries_if(move |_, c| c.identity.user.id == user_id);
}

/// Resolves a presented secret to its owner, if the token is live. Refreshes `last_used_at`
/// in the background at most once a minute per token.
pub async fn resolve(db: &Db, secret: &str) -> Result<Option<TokenIdentity>> {
    use std::sync::atomic::Ordering;
    if !secret.starts_with(PREFIX) || secret.len() > 128 {
        return Ok(None);
    }
    let now = Utc::now();
    let hash = hash_secret(secret);
    let cached = match identities().get(&hash) {
        Some(c) if c.identity.expires_at.is_none_or(|t| t > now) => c,
        _ => {
            let found = {
                let mut conn = db.acquire().await?;
                db::api_tokens::find_live_by_hash(conn.conn(), &hash, now).await?
            };
            let Some(found) = found else { return Ok(None) };
            let cached = std::sync::Arc::new(Cached {
                last_touch: std::sync::atomic::AtomicI64::new(found.last_used_at.map_or(0, |t| t.timestamp())),
                identity: TokenIdentity {
                    scopes: Scopes::parse(&found.scopes),
                    token_id: found.token_id,
                    expires_at: found.expires_at,
                    user: found.user.into_user(),
                },
            });
            identities().insert(hash, cached.clone());
            cached
        }
    };
    let last = cached.last_touch.load(Ordering::Relaxed);
    let due = now.timestamp() - last > TOUCH_EVERY.num_seconds();
    // One request wins the right to write (the others see the new value and go on).
    if due && cached.last_touch.compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        let db = db.clone();
        let id = cached.identity.token_id;
        tokio::spawn(async move {
            if let Ok(mut conn) = db.acquire().await {
                if let Err(e) = db::api_tokens::touch_last_used(conn.conn(), id, now).await {
                    tracing::warn!(error = %e, token_id = id, "could not record token use");
                }
            }
        });
    }
    Ok(Some(cached.identity.clone()))
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
