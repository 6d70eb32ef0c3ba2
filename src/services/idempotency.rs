//! Idempotency keys (the Stripe model): the first request with a key runs and its
//! response is kept for 24 hours per caller; a retry with the same key and the same
//! request gets that response again; the same key with another request is refused;
//! a retry while the first is still running is told to wait.
//!
//! Kept responses may hold secrets (a token from `POST /auth/token` or `POST /tokens`), so
//! nothing is stored in clear. From the client's key, HKDF-SHA256 derives three values: the
//! record's id (the key itself is never stored), a MAC key for the request's fingerprint (so
//! the stored fingerprint cannot be used to guess a password in the request), and an
//! encryption key that seals the response with XChaCha20-Poly1305. Only a client presenting
//! the key again can open it; a copy of the database alone reveals nothing.

use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng},
    XChaCha20Poly1305, XNonce,
};
use chrono::{TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{
    db::{self, Db},
    error::{Error, Result},
};

/// How long a key is remembered.
pub const RETENTION: TimeDelta = TimeDelta::hours(24);
/// A request still "running" after this is taken to have died with its process.
pub const IN_FLIGHT_LEASE: TimeDelta = TimeDelta::seconds(60);

/// A response as kept for replay.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the client's `Idempotency-Key` (within the caller's scope) opens.
pub struct IdempotencyKey {
    scope: String,
    /// Hex: what the record is stored under.
    id: String,
    fingerprint_key: [u8; 32],
    seal_key: [u8; 32],
}

impl IdempotencyKey {
    pub fn derive(scope: &str, key: &str) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"quire idempotency v1"), key.as_bytes());
        let expand = |label: &str| {
            let mut out = [0u8; 32];
            // 32 bytes is far below HKDF-SHA256's limit, so this cannot fail.
            let _ = hk.expand(format!("{label}\0{scope}").as_bytes(), &mut out);
            out
        };
        IdempotencyKey {
            scope: scope.to_string(),
            id: hex::encode(expand("id")),
            fingerprint_key: expand("fingerprint"),
            seal_key: expand("seal"),
        }
    }

    /// A keyed fingerprint of the request (method, path and query, content type, body).
    pub fn fingerprint(&self, parts: &[&[u8]]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.fingerprint_key).expect("HMAC takes any key length");
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    fn seal(&self, response: &StoredResponse) -> Result<Vec<u8>> {
        let plain = serde_json::to_vec(response).map_err(Error::internal)?;
        let cipher = XChaCha20Poly1305::new((&self.seal_key).into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        out.extend(cipher.encrypt(&nonce, plain.as_slice()).map_err(|_| Error::internal_msg("sealing failed"))?);
        Ok(out)
    }

    fn open(&self, sealed: &[u8]) -> Option<StoredResponse> {
        if sealed.len() < 24 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.seal_key).into());
        let plain = cipher.decrypt(XNonce::from_slice(nonce), ciphertext).ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The key is ours: run the request, then [`finish`] or [`abandon`].
    Proceed,
    /// The same request already ran: send this again.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// Claims `key` for a request with `fingerprint`.
pub async fn begin(db: &Db, key: &IdempotencyKey, fingerprint: &str) -> Result<Begin> {
    let mut conn = db.acquire().await?;
    for _ in 0..2 {
        let now = Utc::now();
        if db::idempotency::try_begin(conn.conn(), &key.scope, &key.id, fingerprint, now).await? {
            return Ok(Begin::Proceed);
        }
        let Some(rec) = db::idempotency::find(conn.conn(), &key.scope, &key.id).await? else { continue };
        let expired = now - rec.created_at > RETENTION;
        let abandoned = rec.status.is_none() && now - rec.created_at > IN_FLIGHT_LEASE;
        if expired || abandoned {
            db::idempotency::remove(conn.conn(), &key.scope, &key.id).await?;
            continue;
        }
        // While the first request runs, nothing can be said about it yet: wait.
        let Some(status) = rec.status else { return Ok(Begin::InFlight) };
        if rec.fingerprint != fingerprint {
            return Ok(Begin::Mismatch);
        }
        return Ok(match rec.sealed.as_deref().and_then(|s| key.open(s)) {
            Some(stored) => Begin::Replay(stored),
            // Unreadable (it cannot be, short of tampering): treat it as the same request done
            // with an empty answer rather than running it twice.
            None => Begin::Replay(StoredResponse { status: status as u16, headers: Vec::new(), body: Vec::new() }),
        });
    }
    // Lost two races in a row to a concurrent first request.
    Ok(Begin::InFlight)
}

/// Stores the response of the request that claimed `key`, sealed.
pub async fn finish(db: &Db, key: &IdempotencyKey, response: &StoredResponse) -> Result<()> {
    let sealed = key.seal(response)?;
    let mut conn = db.acquire().await?;
    db::idempotency::complete(conn.conn(), &key.scope, &key.id, i32::from(response.status), &sealed).await?;
    Ok(())
}

/// Releases `key` so the request may be tried again (its first attempt failed).
pub async fn abandon(db: &Db, key: &IdempotencyKey) -> Result<()> {
    let mut conn = db.acquire().await?;
    db::idempotency::remove(conn.conn(), &key.scope, &key.id).await?;
    Ok(())
}

/// Forgets keys older than the retention period.
pub async fn purge(db: &Db) -> Result<u64> {
    let mut conn = db.acquire().await?;
    Ok(db::idempotency::purge_before(conn.conn(), Utc::now() - RETENTION).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_response_opens_only_with_its_key() {
        let key = IdempotencyKey::derive("user:1", "retry-me");
        let response = StoredResponse {
            status: 201,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"token":"qrt_secret"}"#.to_vec(),
        };
        let sealed = key.seal(&response).unwrap();
        assert!(!sealed.windows(10).any(|w| w == b"qrt_secret"));
        assert_eq!(key.open(&sealed), Some(response));
        assert_eq!(IdempotencyKey::derive("user:1", "another").open(&sealed), None);
        assert_eq!(IdempotencyKey::derive("user:2", "retry-me").open(&sealed), None);
        assert!(!key.id.contains("retry-me"));
        assert_ne!(
            key.fingerprint(&[b"POST", b"{}"]),
            IdempotencyKey::derive("user:1", "x").fingerprint(&[b"POST", b"{}"])
        );
    }
}
