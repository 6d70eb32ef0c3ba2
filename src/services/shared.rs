//! Redis, when `REDIS_URL` is set: what several nodes share beyond their database — one
//! rate-limit budget ([`RedisStore`]) and cache invalidation (a generation bump published to
//! every node). Redis is a helper, not a single point of failure: while it is unreachable each
//! node counts its own budget and keeps its cache for a short time only; it logs the change
//! once, reports it in `quire_redis_up`, and shares again when Redis returns.
//!
//! One `ConnectionManager` (redis 1.x) serves commands and the subscription: it reconnects by
//! itself and, with RESP3 push messages, subscribes again after a reconnect.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, OnceLock,
    },
    time::Duration,
};

use redis::{aio::ConnectionManager, PushKind, Script};

use super::{
    cache::Store,
    rate_limit::{Decision, MemoryStore, Policy, RateLimitStore},
};

const CHANNEL: &str = "quire:cache";

/// The link to Redis (shared by every part of this node that uses it).
pub struct Shared {
    conn: OnceLock<ConnectionManager>,
    up: AtomicBool,
    node: String,
    /// This node's cache: invalidated when another node writes, short-lived while Redis is away.
    cache: Arc<Store>,
}

impl Shared {
    /// Connects in the background (retrying until Redis answers, so a node starts whether or
    /// not Redis is there yet), sends `cache`'s invalidations to the other nodes and relays
    /// theirs to it.
    pub fn start(url: &str, cache: Arc<Store>) -> redis::RedisResult<Arc<Self>> {
        let url = with_resp3(url);
        let client = redis::Client::open(url.as_str())?;
        let shared = Arc::new(Shared {
            conn: OnceLock::new(),
            up: AtomicBool::new(false),
            node: uuid::Uuid::new_v4().simple().to_string(),
            cache: cache.clone(),
        });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_push_sender(tx)
            .set_automatic_resubscription()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(250)))
            .set_max_delay(Duration::from_secs(2));
        // Until Redis answers, other nodes' writes cannot reach this cache.
        cache.set_shared(false);
        // This node's invalidations go to the others (the hook holds the link weakly).
        let teller = Arc::downgrade(&shared);
        cache.set_broadcast(move || {
            let link = teller.upgrade();
            async move {
                if let Some(link) = link {
                    link.publish_invalidation().await;
                }
            }
        });
        metrics::gauge!("quire_redis_up").set(0.0);
        // The tasks hold the link weakly: they end when the node's state is dropped.
        let weak = Arc::downgrade(&shared);
        tokio::spawn(async move {
            let mut logged = false;
            let mut conn = loop {
                if weak.strong_count() == 0 {
                    return;
                }
                match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
                    Ok(conn) => break conn,
                    Err(e) => {
                        if !logged {
                            tracing::warn!(error = %e, "Redis is unreachable; rate limits and caches stay per node until it answers");
                            logged = true;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            };
            if let Err(e) = conn.subscribe(CHANNEL).await {
                tracing::warn!(error = %e, "could not subscribe to cache invalidations");
            }
            let Some(link) = weak.upgrade() else { return };
            let _ = link.conn.set(conn.clone());
            link.mark(true);
            drop(link);
            // A ping a second notices Redis going and coming back even when no request asks it
            // anything (the reconnect also subscribes again).
            let ping_link = weak.clone();
            tokio::spawn(async move {
                let mut conn = conn;
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    let Some(link) = ping_link.upgrade() else { break };
                    let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
                    link.mark(pong.is_ok());
                }
            });
            while let Some(push) = rx.recv().await {
                let Some(link) = weak.upgrade() else { break };
                match push.kind {
                    PushKind::Message => {
                        let from: Option<String> =
                            push.data.get(1).and_then(|v| redis::from_redis_value::<String>(v.clone()).ok());
                        if from.as_deref() != Some(link.node.as_str()) {
                            link.cache.invalidate_local();
                        }
                    }
                    PushKind::Disconnection => link.mark(false),
                    PushKind::Subscribe => link.mark(true),
                    _ => {}
                }
            }
        });
        Ok(shared)
    }

    /// Whether Redis answered the last time it was asked.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Records Redis' availability, logging and acting on a change only: while it is down the
    /// cache keeps entries briefly; when it returns, this node's cache starts afresh (it may
    /// have missed other nodes' invalidations meanwhile).
    fn mark(&self, up: bool) {
        if self.up.swap(up, Ordering::Relaxed) == up {
            return;
        }
        metrics::gauge!("quire_redis_up").set(if up { 1.0 } else { 0.0 });
        self.cache.set_shared(up);
        if up {
            tracing::info!("Redis is reachable: rate limits and cache invalidation are shared again");
            self.cache.invalidate_local();
        } else {
            metrics::counter!("quire_redis_failures_total").increment(1);
            tracing::warn!("Redis is unreachable: rate limits and caches stay per node until it returns");
        }
    }

    fn conn(&self) -> Option<ConnectionManager> {
        self.conn.get().cloned()
    }

    /// Tells the other nodes that public content changed.
    pub async fn publish_invalidation(&self) {
        let Some(mut conn) = self.conn() else { return };
        let sent: redis::RedisResult<i64> =
            redis::cmd("PUBLISH").arg(CHANNEL).arg(&self.node).query_async(&mut conn).await;
        self.mark(sent.is_ok());
    }
}

/// `url` with RESP3 (push messages) asked for, unless it names a protocol itself.
fn with_resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

/// GCRA evaluated atomically in Redis, with Redis' own clock (one for every node): the key
/// holds the theoretical arrival time in milliseconds.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local diff = new_tat - now
if diff > burst * interval then
  return {0, 0, tat - now, diff - burst * interval}
end
redis.call('SET', KEYS[1], new_tat, 'PX', diff)
return {1, math.floor((burst * interval - diff) / interval), diff, 0}
"#;

/// One budget for every node: hits are counted in Redis; while Redis does not answer, in this
/// node's memory.
pub struct RedisStore {
    shared: Arc<Shared>,
    script: Script,
    fallback: MemoryStore,
}

impl RedisStore {
    pub fn new(shared: Arc<Shared>, policies: &[Policy]) -> Self {
        RedisStore { shared, script: Script::new(GCRA), fallback: MemoryStore::new(policies) }
    }
}

#[async_trait::async_trait]
impl RateLimitStore for RedisStore {
    async fn hit(&self, policy: &Policy, key: &str) -> Decision {
        if let Some(mut conn) = self.shared.conn() {
            let limit = policy.limit.max(1);
            let interval = (policy.window.as_millis() as u64 / u64::from(limit)).max(1);
            let answer: redis::RedisResult<(i64, i64, i64, i64)> = self
                .script
                .key(format!("quire:rl:{}:{key}", policy.name.as_str()))
                .arg(interval)
                .arg(limit)
                .invoke_async(&mut conn)
                .await;
            match answer {
                Ok((allowed, remaining, reset_ms, retry_ms)) => {
                    self.shared.mark(true);
                    let ms = |v: i64| Duration::from_millis(u64::try_from(v).unwrap_or(0));
                    return Decision {
                        allowed: allowed == 1,
                        limit: policy.limit,
                        remaining: u32::try_from(remaining).unwrap_or(0),
                        reset_after: ms(reset_ms),
                        retry_after: (allowed != 1).then(|| ms(retry_ms)),
                    };
                }
                Err(e) => {
                    if self.shared.is_up() {
                        tracing::debug!(error = %e, "rate limit store unreachable");
                    }
                    self.shared.mark(false);
                }
            }
        }
        self.fallback.hit(policy, key).await
    }

    fn housekeeping(&self) {
        self.fallback.housekeeping();
    }
}
