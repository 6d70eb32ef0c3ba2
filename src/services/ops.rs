//! The live operations numbers: what this node served in each of the last minutes' seconds
//! (requests per second, p50/p99 latency, error rate), its open event streams and the queue,
//! and sign-ups and posts per hour. The request path only bumps atomic counters; a sampler
//! turns them into one [`OpsPoint`] per second, kept for two minutes, that the admin
//! dashboard draws and streams. The same events also feed the Prometheus metrics.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use tokio::sync::watch;

use crate::{
    db::{self, Db},
    error::Result,
    models::JobStatus,
};

pub use crate::models::ops::{OpsPoint, OpsSnapshot, HISTORY};

/// Latency buckets' upper bounds in microseconds (the last is "more").
const BOUNDS_US: [u64; 16] = [
    250,
    500,
    1_000,
    2_000,
    4_000,
    8_000,
    16_000,
    32_000,
    64_000,
    128_000,
    256_000,
    512_000,
    1_024_000,
    4_096_000,
    16_384_000,
    u64::MAX,
];

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    errors: AtomicU64,
    buckets: [AtomicU64; BOUNDS_US.len()],
}

/// This node's operations numbers (cheap to clone).
#[derive(Clone)]
pub struct Ops(Arc<Inner>);

struct Inner {
    now: Counters,
    history: Mutex<VecDeque<OpsPoint>>,
    latest: watch::Sender<OpsSnapshot>,
}

impl Default for Ops {
    fn default() -> Self {
        let (latest, _) = watch::channel(OpsSnapshot::default());
        Ops(Arc::new(Inner { now: Counters::default(), history: Mutex::new(VecDeque::new()), latest }))
    }
}

impl Ops {
    /// One answered request (a 5xx counts as an error).
    pub fn record(&self, elapsed: Duration, server_error: bool) {
        let c = &self.0.now;
        c.requests.fetch_add(1, Ordering::Relaxed);
        if server_error {
            c.errors.fetch_add(1, Ordering::Relaxed);
        }
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let i = BOUNDS_US.iter().position(|b| us <= *b).unwrap_or(BOUNDS_US.len() - 1);
        c.buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Closes the current second: what was counted since the last call becomes a point.
    pub fn tick(&self, at_ms: i64, gauges: Gauges) -> OpsPoint {
        let c = &self.0.now;
        let requests = c.requests.swap(0, Ordering::Relaxed);
        let errors = c.errors.swap(0, Ordering::Relaxed);
        let counts: Vec<u64> = c.buckets.iter().map(|b| b.swap(0, Ordering::Relaxed)).collect();
        let point = OpsPoint {
            at_ms,
            requests_per_second: requests as f64,
            p50_ms: quantile(&counts, 0.50),
            p99_ms: quantile(&counts, 0.99),
            error_rate: if requests == 0 { 0.0 } else { errors as f64 / requests as f64 },
            sse_connections: gauges.sse_connections,
            queue_depth: gauges.queue_depth,
            signups_per_hour: gauges.signups_per_hour,
            posts_per_hour: gauges.posts_per_hour,
        };
        let history = {
            let mut h = self.0.history.lock().unwrap_or_else(|e| e.into_inner());
            h.push_back(point.clone());
            while h.len() > HISTORY {
                h.pop_front();
            }
            h.iter().cloned().collect::<Vec<_>>()
        };
        self.0.latest.send_replace(OpsSnapshot { points: history });
        point
    }

    /// The last two minutes.
    pub fn snapshot(&self) -> OpsSnapshot {
        self.0.latest.borrow().clone()
    }

    /// Each new snapshot, as it is made (once a second).
    pub fn subscribe(&self) -> watch::Receiver<OpsSnapshot> {
        self.0.latest.subscribe()
    }
}

/// Numbers read from elsewhere when a second closes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub sse_connections: i64,
    pub queue_depth: i64,
    pub signups_per_hour: i64,
    pub posts_per_hour: i64,
}

/// The numbers that cost a query: the queue by status (also set as `quire_job_queue_depth`),
/// and accounts and posts created in the last hour.
pub async fn slow_gauges(db: &Db) -> Result<Gauges> {
    let mut conn = db.acquire().await?;
    let counts = db::jobs::count_by_status(conn.conn()).await?;
    let mut depth = 0;
    for status in JobStatus::ALL {
        let n = counts.iter().find(|(s, _)| s == status.as_str()).map_or(0, |(_, n)| *n);
        metrics::gauge!("quire_job_queue_depth", "status" => status.as_str()).set(n as f64);
        if matches!(status, JobStatus::Queued | JobStatus::Running) {
            depth += n;
        }
    }
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    Ok(Gauges {
        sse_connections: 0,
        queue_depth: depth,
        signups_per_hour: db::stats::users_since(conn.conn(), hour_ago).await?,
        posts_per_hour: db::stats::posts_since(conn.conn(), hour_ago).await?,
    })
}

/// The `q` quantile of a bucketed latency count, in milliseconds (the bucket's upper bound).
fn quantile(counts: &[u64], q: f64) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let rank = ((total as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, n) in counts.iter().enumerate() {
        seen += n;
        if seen >= rank {
            let bound = BOUNDS_US[i.min(BOUNDS_US.len() - 2)];
            return bound as f64 / 1000.0;
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_becomes_one_point_with_its_rate_quantiles_and_errors() {
        let ops = Ops::default();
        for _ in 0..98 {
            ops.record(Duration::from_micros(300), false);
        }
        ops.record(Duration::from_millis(50), true);
        ops.record(Duration::from_millis(50), false);
        let p = ops.tick(1_000, Gauges { sse_connections: 3, ..Default::default() });
        assert_eq!(p.requests_per_second, 100.0);
        assert_eq!(p.p50_ms, 0.5);
        assert_eq!(p.p99_ms, 64.0);
        assert!((p.error_rate - 0.01).abs() < 1e-9);
        assert_eq!(p.sse_connections, 3);
        let empty = ops.tick(2_000, Gauges::default());
        assert_eq!((empty.requests_per_second, empty.p99_ms), (0.0, 0.0), "counters start again each second");
        assert_eq!(ops.snapshot().points.len(), 2);
    }
}
