//! Rate limiting, independent of HTTP: named policies (requests per window) and a store
//! that counts hits per key. The in-process store uses `governor` (GCRA: a smooth
//! token bucket, lock-free per key); the [`RateLimitStore`] trait is the seam where a
//! shared store (Redis) plugs in when several nodes must share one budget.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
    Quota, RateLimiter,
};

use crate::config::RateLimits;

/// Which budget a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyName {
    /// `/api/v1/auth/*` and the sign-in/registration forms, per IP.
    Auth,
    /// Anonymous API callers, per IP.
    Anonymous,
    /// Authenticated API callers, per user.
    User,
}

impl PolicyName {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyName::Auth => "auth",
            PolicyName::Anonymous => "anonymous",
            PolicyName::User => "user",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub name: PolicyName,
    /// Requests allowed per window (also the burst).
    pub limit: u32,
    pub window: Duration,
}

/// The outcome of one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Until the budget is whole again.
    pub reset_after: Duration,
    /// When denied: until the next request would be allowed.
    pub retry_after: Option<Duration>,
}

/// Counts hits per key for a policy. Implementations must be safe to share across tasks
/// (and, for a shared store, across nodes).
#[async_trait::async_trait]
pub trait RateLimitStore: Send + Sync + 'static {
    async fn hit(&self, policy: &Policy, key: &str) -> Decision;
    /// Forgets idle keys (called periodically).
    fn housekeeping(&self) {}
}

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Single-node store: one governor limiter per policy.
pub struct MemoryStore {
    limiters: Vec<(PolicyName, Keyed, Duration)>,
    clock: DefaultClock,
}

impl MemoryStore {
    pub fn new(policies: &[Policy]) -> Self {
        let limiters = policies
            .iter()
            .map(|p| {
                let limit = NonZeroU32::new(p.limit.max(1)).unwrap_or(NonZeroU32::MIN);
                let per_cell = p.window / limit.get();
                let quota = Quota::with_period(per_cell.max(Duration::from_nanos(1)))
                    .unwrap_or_else(|| Quota::per_minute(limit))
                    .allow_burst(limit);
                (p.name, RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(), per_cell)
            })
            .collect();
        MemoryStore { limiters, clock: DefaultClock::default() }
    }
}

#[async_trait::async_trait]
impl RateLimitStore for MemoryStore {
    async fn hit(&self, policy: &Policy, key: &str) -> Decision {
        let Some((_, limiter, per_cell)) = self.limiters.iter().find(|(n, _, _)| *n == policy.name) else {
            return Decision {
                allowed: true,
                limit: policy.limit,
                remaining: policy.limit,
                reset_after: Duration::ZERO,
                retry_after: None,
            };
        };
        match limiter.check_key(&key.to_string()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    limit: policy.limit,
                    remaining,
                    reset_after: *per_cell * (policy.limit - remaining.min(policy.limit)),
                    retry_after: None,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Decision {
                    allowed: false,
                    limit: policy.limit,
                    remaining: 0,
                    reset_after: *per_cell * policy.limit,
                    retry_after: Some(wait),
                }
            }
        }
    }

    fn housekeeping(&self) {
        for (_, limiter, _) in &self.limiters {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The application's limiter: the configured policies over a store.
#[derive(Clone)]
pub struct Limiter {
    pub auth: Policy,
    pub anonymous: Policy,
    pub user: Policy,
    store: Arc<dyn RateLimitStore>,
}

impl Limiter {
    pub fn in_memory(limits: RateLimits) -> Self {
        Self::with_store(limits, |policies| Arc::new(MemoryStore::new(policies)))
    }

    /// The configured policies over the store `make` builds for them (Redis, for several nodes).
    pub fn with_store(limits: RateLimits, make: impl FnOnce(&[Policy]) -> Arc<dyn RateLimitStore>) -> Self {
        let minute = Duration::from_secs(60);
        let auth = Policy { name: PolicyName::Auth, limit: limits.auth, window: minute };
        let anonymous = Policy { name: PolicyName::Anonymous, limit: limits.anonymous, window: minute };
        let user = Policy { name: PolicyName::User, limit: limits.user, window: minute };
        let store = make(&[auth, anonymous, user]);
        Limiter { auth, anonymous, user, store }
    }

    pub async fn hit(&self, policy: &Policy, key: &str) -> Decision {
        let decision = self.store.hit(policy, key).await;
        if !decision.allowed {
            metrics::counter!("quire_rate_limit_refusals_total", "policy" => policy.name.as_str()).increment(1);
        }
        decision
    }

    /// Starts forgetting idle keys every minute, for as long as `self` lives elsewhere.
    pub fn spawn_housekeeping(&self) {
        let weak = Arc::downgrade(&self.store);
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                match weak.upgrade() {
                    Some(store) => store.housekeeping(),
                    None => break,
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_eleventh_hit_in_a_minute_is_denied_per_key() {
        let limiter = Limiter::in_memory(RateLimits { anonymous: 100, user: 100, auth: 10 });
        for i in 0..10 {
            let d = limiter.hit(&limiter.auth, "ip:1").await;
            assert!(d.allowed, "hit {i}");
            assert_eq!(d.remaining, 9 - i);
        }
        let denied = limiter.hit(&limiter.auth, "ip:1").await;
        assert!(!denied.allowed);
        let wait = denied.retry_after.unwrap();
        assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(6), "{wait:?}");
        // Another client, and another policy, have budgets of their own.
        assert!(limiter.hit(&limiter.auth, "ip:2").await.allowed);
        assert!(limiter.hit(&limiter.anonymous, "ip:1").await.allowed);
    }
}
