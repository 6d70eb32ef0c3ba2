//! What several nodes share through Redis, against the machine's real Redis
//! (`QUIRE_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`): the GCRA budget is one budget
//! for every store that uses it, Redis' own clock paces it, and an unreachable Redis leaves
//! each node counting on its own. Two whole nodes (processes) are tested by
//! `scripts/multinode_test.py`.

use std::{sync::Arc, time::Duration};

use quire::services::{
    cache::Store,
    rate_limit::{Policy, PolicyName, RateLimitStore},
    shared::{RedisStore, Shared},
};

fn redis_url() -> String {
    std::env::var("QUIRE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn policy(limit: u32) -> Policy {
    Policy { name: PolicyName::Auth, limit, window: Duration::from_secs(60) }
}

/// A node's Redis link and store, once the link is up.
async fn node(url: &str, p: Policy) -> (Arc<Shared>, RedisStore) {
    let cache = Arc::new(Store::new(Duration::from_secs(60), 1 << 20));
    let shared = Shared::start(url, cache.clone()).expect("a valid Redis URL");
    for _ in 0..100 {
        if shared.is_up() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let store = RedisStore::new(shared.clone(), &[p]);
    (shared, store)
}

#[tokio::test]
async fn two_stores_draw_on_one_budget_in_redis() {
    let p = policy(10);
    let (a_link, a) = node(&redis_url(), p).await;
    let (_b_link, b) = node(&redis_url(), p).await;
    assert!(a_link.is_up(), "the machine's Redis answers at {}", redis_url());
    let key = format!("test-{}", uuid::Uuid::new_v4().simple());
    for i in 0..10 {
        let store = if i % 2 == 0 { &a } else { &b };
        let d = store.hit(&p, &key).await;
        assert!(d.allowed, "hit {} of 10 is allowed", i + 1);
        assert_eq!(d.remaining, 9 - i, "the remaining budget counts both stores' hits");
    }
    let denied = b.hit(&p, &key).await;
    assert!(!denied.allowed, "the eleventh hit over both stores is refused");
    let retry = denied.retry_after.expect("a refusal says when to retry");
    assert!(
        retry > Duration::ZERO && retry <= Duration::from_secs(6),
        "one slot frees in a tenth of the window: {retry:?}"
    );
    assert!(a.hit(&p, &format!("{key}-other")).await.allowed, "another key has its own budget");
}

#[tokio::test]
async fn a_slot_comes_back_after_its_share_of_the_window() {
    let p = Policy { name: PolicyName::Anonymous, limit: 2, window: Duration::from_millis(400) };
    let (_link, store) = node(&redis_url(), p).await;
    let key = format!("test-{}", uuid::Uuid::new_v4().simple());
    assert!(store.hit(&p, &key).await.allowed);
    assert!(store.hit(&p, &key).await.allowed);
    assert!(!store.hit(&p, &key).await.allowed);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(store.hit(&p, &key).await.allowed, "one slot is back after window / limit");
}

#[tokio::test]
async fn without_redis_each_node_counts_on_its_own() {
    // Nothing listens on port 1: the link never comes up and the store falls back.
    let p = policy(3);
    let (link, store) = node("redis://127.0.0.1:1", p).await;
    assert!(!link.is_up());
    for _ in 0..3 {
        assert!(store.hit(&p, "fallback").await.allowed);
    }
    assert!(!store.hit(&p, "fallback").await.allowed, "the node's own budget still holds");
}

#[tokio::test]
async fn an_invalidation_on_one_node_reaches_the_others() {
    let cache_a = Arc::new(Store::new(Duration::from_secs(60), 1 << 20));
    let cache_b = Arc::new(Store::new(Duration::from_secs(60), 1 << 20));
    let a = Shared::start(&redis_url(), cache_a.clone()).unwrap();
    let b = Shared::start(&redis_url(), cache_b.clone()).unwrap();
    for _ in 0..100 {
        if a.is_up() && b.is_up() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Each link's own "up" transition starts its cache afresh: let that settle first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cache_b.generation();
    cache_a.invalidate().await;
    for _ in 0..100 {
        if cache_b.generation() != before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_ne!(cache_b.generation(), before, "B's cache starts a new generation");
    let (a_gen, b_gen) = (cache_a.generation(), cache_b.generation());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cache_a.generation(), a_gen, "A does not hear its own invalidation back");
    assert_eq!(cache_b.generation(), b_gen);
}
