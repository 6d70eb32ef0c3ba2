//! Open event streams: how many each user and each client address may hold at once (beyond
//! the cap: 429), and whether the credential a stream was opened with still stands — a
//! stream checks it at every heartbeat and ends once its token is revoked or expired, its
//! session is signed out (or outlived by a password change), or its account is deleted.
//! The counts are per node; each node enforces its own caps.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::Utc;
use tower_sessions::session::Id as SessionId;

use crate::{
    db::{self, Db},
    error::{Error, Result},
    models::{AppError, ErrorCode},
};

/// The caps, and the streams open now.
#[derive(Clone)]
pub struct StreamLimits {
    per_user: usize,
    per_ip: usize,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open stream's place in the counts; given back when the stream is dropped.
pub struct StreamPermit {
    keys: Vec<String>,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        for key in &self.keys {
            if let Some(n) = open.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

impl StreamLimits {
    pub fn new(per_user: usize, per_ip: usize) -> Self {
        StreamLimits { per_user: per_user.max(1), per_ip: per_ip.max(1), open: Arc::default() }
    }

    /// Counts a new stream for `user_id` (if signed in) from `client` (an address key), or
    /// refuses it with 429 when either holds its cap already.
    pub fn try_open(&self, user_id: Option<i64>, client: &str) -> Result<StreamPermit> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys = vec![format!("client:{client}")];
        if open.get(&keys[0]).copied().unwrap_or(0) >= self.per_ip {
            return Err(too_many(format!("At most {} event streams may be open from one address.", self.per_ip)));
        }
        if let Some(id) = user_id {
            let key = format!("user:{id}");
            if open.get(&key).copied().unwrap_or(0) >= self.per_user {
                return Err(too_many(format!("At most {} event streams may be open per account.", self.per_user)));
            }
            keys.push(key);
        }
        for key in &keys {
            *open.entry(key.clone()).or_insert(0) += 1;
        }
        Ok(StreamPermit { keys, open: self.open.clone() })
    }

    /// Streams open on this node.
    pub fn open(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(k, _)| k.starts_with("client:"))
            .map(|(_, n)| n)
            .sum()
    }
}

fn too_many(message: String) -> Error {
    Error::App(AppError::new(ErrorCode::RateLimited, message))
}

/// What a stream was opened with.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Nobody signed in (a public post's comment stream).
    Anonymous,
    /// A browser session, signed in as `user_id`.
    Session { id: SessionId, user_id: i64 },
    /// A bearer token.
    Token { id: i64 },
}

/// Whether `credential` still admits its holder. A database fault counts as "yes" (a
/// stream is not cut for a hiccup; the next heartbeat asks again).
pub async fn credential_stands(db: &Db, credential: &Credential) -> bool {
    let result: Result<bool> = async {
        match credential {
            Credential::Anonymous => Ok(true),
            Credential::Token { id } => {
                let mut conn = db.acquire().await?;
                Ok(db::api_tokens::is_live(conn.conn(), *id, Utc::now()).await?)
            }
            Credential::Session { id, user_id } => {
                Ok(crate::services::accounts::session_stands(db, id, *user_id).await?)
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not check a stream's credential; keeping it open");
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_per_user_and_per_address_and_free_on_drop() {
        let limits = StreamLimits::new(2, 3);
        let a = limits.try_open(Some(1), "ip:1").unwrap();
        let b = limits.try_open(Some(1), "ip:1").unwrap();
        assert!(limits.try_open(Some(1), "ip:2").is_err(), "a third stream for user 1");
        let c = limits.try_open(Some(2), "ip:1").unwrap();
        assert!(limits.try_open(None, "ip:1").is_err(), "a fourth stream from ip:1");
        assert_eq!(limits.open(), 3);
        drop(a);
        assert!(limits.try_open(Some(1), "ip:2").is_ok());
        drop((b, c));
        assert_eq!(limits.open(), 0);
    }
}
