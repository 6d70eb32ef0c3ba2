//! Idempotency keys (the Stripe model): the first request with a key runs and its
//! response is kept for 24 hours per caller; a retry with the same key and the same
//! request gets that response again; the same key with another request is refused;
//! a retry while the first is still running is told to wait.

use chrono::{TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    db::{self, Db},
    error::Result,
};

/// How long a key is remembered.
pub const RETENTION: TimeDelta = TimeDelta::hours(24);
/// A request still "running" after this is taken to have died with its process.
pub const IN_FLIGHT_LEASE: TimeDelta = TimeDelta::seconds(60);

/// A response as stored for replay.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
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

/// Claims `key` within `scope` (the caller) for a request with `fingerprint`.
pub async fn begin(db: &Db, scope: &str, key: &str, fingerprint: &str) -> Result<Begin> {
    let mut conn = db.acquire().await?;
    for _ in 0..2 {
        let now = Utc::now();
        if db::idempotency::try_begin(conn.conn(), scope, key, fingerprint, now).await? {
            return Ok(Begin::Proceed);
        }
        let Some(rec) = db::idempotency::find(conn.conn(), scope, key).await? else { continue };
        let expired = now - rec.created_at > RETENTION;
        let abandoned = rec.status.is_none() && now - rec.created_at > IN_FLIGHT_LEASE;
        if expired || abandoned {
            db::idempotency::remove(conn.conn(), scope, key).await?;
            continue;
        }
        // While the first request runs, nothing can be said about it yet: wait.
        if rec.status.is_none() {
            return Ok(Begin::InFlight);
        }
        if rec.fingerprint != fingerprint {
            return Ok(Begin::Mismatch);
        }
        return Ok(match rec.status {
            None => Begin::InFlight,
            Some(status) => {
                let headers: Vec<(String, String)> =
                    rec.headers.as_deref().and_then(|h| serde_json::from_str(h).ok()).unwrap_or_default();
                Begin::Replay(StoredResponse { status: status as u16, headers, body: rec.body.unwrap_or_default() })
            }
        });
    }
    // Lost two races in a row to a concurrent first request.
    Ok(Begin::InFlight)
}

/// Stores the response of the request that claimed `key`.
pub async fn finish(db: &Db, scope: &str, key: &str, response: &StoredResponse) -> Result<()> {
    let headers = serde_json::to_string(&response.headers).unwrap_or_else(|_| "[]".into());
    let mut conn = db.acquire().await?;
    db::idempotency::complete(conn.conn(), scope, key, response.status as i32, &headers, &response.body).await?;
    Ok(())
}

/// Releases `key` so the request may be tried again (its first attempt failed on our side).
pub async fn abandon(db: &Db, scope: &str, key: &str) -> Result<()> {
    let mut conn = db.acquire().await?;
    db::idempotency::remove(conn.conn(), scope, key).await?;
    Ok(())
}

/// Forgets keys older than the retention period.
pub async fn purge(db: &Db) -> Result<u64> {
    let mut conn = db.acquire().await?;
    Ok(db::idempotency::purge_before(conn.conn(), Utc::now() - RETENTION).await?)
}
