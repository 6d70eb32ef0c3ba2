//! The server-side cache of public answers (API reads and rendered pages), shared by every
//! request of this process.
//!
//! Invalidation is by generation: every write that can change public content bumps a counter
//! ([`Store::invalidate`]) and an entry stored under an older generation is never served. A
//! read that started before a write cannot store its now-stale answer either, because it is
//! stored under the generation it started with. What is kept is the caller's own type
//! (`get::<T>` finds only what `put` stored as a `T`); its size in bytes is given with it.
//!
//! With several nodes, an invalidation is also sent to the others (see `services::shared`);
//! while they cannot be told (Redis away), entries are served for [`UNSHARED_TTL`] at most, so
//! another node's write shows here within that time.

use std::{
    any::Any,
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::{Duration, Instant},
};

/// How long an entry is served while other nodes' invalidations cannot reach this one.
pub const UNSHARED_TTL: Duration = Duration::from_secs(2);

type Value = Arc<dyn Any + Send + Sync>;
type Tell = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// How long a write waits for the other nodes to be told before it answers anyway.
const TELL_PATIENCE: Duration = Duration::from_millis(200);

#[derive(Clone)]
struct Slot {
    generation: u64,
    value: Value,
    at: Instant,
}

pub struct Store {
    entries: moka::sync::Cache<String, Slot>,
    generation: AtomicU64,
    /// Whether every write on any node reaches this cache (true for a single node).
    shared: AtomicBool,
    /// Tells the other nodes of an invalidation (set when there are others).
    broadcast: OnceLock<Tell>,
}

impl Store {
    /// Entries live at most `ttl`; in all they weigh at most `max_bytes`.
    pub fn new(ttl: Duration, max_bytes: u64) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &String, v: &Slot| {
                let bytes = v.value.downcast_ref::<Weighed>().map_or(0, |w| w.0);
                (k.len() + bytes + 256).try_into().unwrap_or(u32::MAX)
            })
            .time_to_live(ttl)
            .build();
        Store { entries, generation: AtomicU64::new(0), shared: AtomicBool::new(true), broadcast: OnceLock::new() }
    }

    /// The generation a read starts under (pass it to `get` and `put`).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets everything cached so far (public content changed), here and on every other
    /// node, returning once the others have been told (or after a short wait), so a read
    /// elsewhere right after the write is fresh. Entries of older generations are never served
    /// again, and are replaced or expire in their own time.
    pub async fn invalidate(&self) {
        self.invalidate_local();
        if let Some(tell_others) = self.broadcast.get() {
            let _ = tokio::time::timeout(TELL_PATIENCE, tell_others()).await;
        }
    }

    /// As [`Store::invalidate`], on this node only (another node's write, heard of).
    pub fn invalidate_local(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// How invalidations reach the other nodes (set once, at start-up).
    pub fn set_broadcast<F>(&self, tell_others: impl Fn() -> F + Send + Sync + 'static)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let _ = self.broadcast.set(Box::new(move || Box::pin(tell_others())));
    }

    /// Whether other nodes' invalidations reach this cache; while they do not, entries are
    /// served for [`UNSHARED_TTL`] only.
    pub fn set_shared(&self, shared: bool) {
        self.shared.store(shared, Ordering::Release);
    }

    /// The value stored under `key` in this `generation`, if it is a `T`.
    pub fn get<T: Send + Sync + 'static>(&self, key: &str, generation: u64) -> Option<Arc<T>> {
        let slot = self.entries.get(key).filter(|s| s.generation == generation)?;
        if !self.shared.load(Ordering::Acquire) && slot.at.elapsed() > UNSHARED_TTL {
            return None;
        }
        slot.value.downcast_ref::<Weighed>()?.1.clone().downcast::<T>().ok()
    }

    /// Keeps `value` (about `bytes` large) under `key`, unless a write happened since
    /// `generation` was read.
    pub fn put<T: Send + Sync + 'static>(&self, key: String, generation: u64, bytes: usize, value: T) {
        if generation == self.generation() {
            let value: Value = Arc::new(Weighed(bytes, Arc::new(value)));
            self.entries.insert(key, Slot { generation, value, at: Instant::now() });
        }
    }
}

/// A value with its size, for the weigher.
struct Weighed(usize, Value);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_only_the_current_generation_and_the_stored_type() {
        let store = Store::new(Duration::from_secs(60), 1 << 20);
        let g = store.generation();
        store.put("a".into(), g, 3, String::from("one"));
        assert_eq!(store.get::<String>("a", g).as_deref().map(String::as_str), Some("one"));
        assert!(store.get::<u32>("a", g).is_none(), "another type is not found");
        store.invalidate_local();
        assert!(store.get::<String>("a", store.generation()).is_none(), "an older generation is never served");
        // A read that started before the write cannot store its stale answer.
        store.put("b".into(), g, 3, String::from("stale"));
        assert!(store.get::<String>("b", store.generation()).is_none());
    }

    #[tokio::test]
    async fn invalidations_reach_the_other_nodes_and_unshared_entries_live_briefly() {
        let store = Store::new(Duration::from_secs(60), 1 << 20);
        let told = Arc::new(AtomicU64::new(0));
        let seen = told.clone();
        store.set_broadcast(move || {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::Relaxed);
            }
        });
        store.invalidate().await;
        store.invalidate_local();
        assert_eq!(told.load(Ordering::Relaxed), 1, "only a local write is told to the others");

        let g = store.generation();
        store.put("k".into(), g, 1, 7u32);
        store.set_shared(false);
        assert!(store.get::<u32>("k", g).is_some(), "a fresh entry is still served");
        std::thread::sleep(UNSHARED_TTL + Duration::from_millis(50));
        assert!(store.get::<u32>("k", g).is_none(), "an older one is not, while unshared");
        store.set_shared(true);
        assert!(store.get::<u32>("k", g).is_some());
    }
}
