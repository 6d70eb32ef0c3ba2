//! The server-side cache of public answers (API reads and rendered pages), shared by every
//! request of this process.
//!
//! Invalidation is by generation: every write that can change public content bumps a counter
//! ([`Store::invalidate`]) and an entry stored under an older generation is never served. A
//! read that started before a write cannot store its now-stale answer either, because it is
//! stored under the generation it started with. What is kept is the caller's own type
//! (`get::<T>` finds only what `put` stored as a `T`); its size in bytes is given with it.

use std::{
    any::Any,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

type Value = Arc<dyn Any + Send + Sync>;

#[derive(Clone)]
struct Slot {
    generation: u64,
    value: Value,
}

pub struct Store {
    entries: moka::sync::Cache<String, Slot>,
    generation: AtomicU64,
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
        Store { entries, generation: AtomicU64::new(0) }
    }

    /// The generation a read starts under (pass it to `get` and `put`).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets everything cached so far (public content changed): entries of older generations
    /// are never served again, and are replaced or expire in their own time.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The value stored under `key` in this `generation`, if it is a `T`.
    pub fn get<T: Send + Sync + 'static>(&self, key: &str, generation: u64) -> Option<Arc<T>> {
        let slot = self.entries.get(key).filter(|s| s.generation == generation)?;
        slot.value.downcast_ref::<Weighed>()?.1.clone().downcast::<T>().ok()
    }

    /// Keeps `value` (about `bytes` large) under `key`, unless a write happened since
    /// `generation` was read.
    pub fn put<T: Send + Sync + 'static>(&self, key: String, generation: u64, bytes: usize, value: T) {
        if generation == self.generation() {
            let value: Value = Arc::new(Weighed(bytes, Arc::new(value)));
            self.entries.insert(key, Slot { generation, value });
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
        store.invalidate();
        assert!(store.get::<String>("a", store.generation()).is_none(), "an older generation is never served");
        // A read that started before the write cannot store its stale answer.
        store.put("b".into(), g, 3, String::from("stale"));
        assert!(store.get::<String>("b", store.generation()).is_none());
    }
}
