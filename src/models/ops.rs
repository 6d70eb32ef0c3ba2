//! The live operations numbers as the admin dashboard shows them (see `services::ops`).

use serde::{Deserialize, Serialize};

/// Seconds of history kept and drawn.
pub const HISTORY: usize = 120;

/// One second of one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OpsPoint {
    /// When the second closed (milliseconds since the Unix epoch).
    pub at_ms: i64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Share of answers that were 5xx (0–1).
    pub error_rate: f64,
    pub sse_connections: i64,
    /// Jobs queued or running.
    pub queue_depth: i64,
    pub signups_per_hour: i64,
    pub posts_per_hour: i64,
}

/// The last two minutes, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OpsSnapshot {
    pub points: Vec<OpsPoint>,
}

/// What a chart of the dashboard draws: a name, a unit and how to read a point.
#[derive(Clone, Copy)]
pub struct Series {
    pub id: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    pub value: fn(&OpsPoint) -> f64,
}

/// The dashboard's charts, in order.
pub const SERIES: [Series; 8] = [
    Series { id: "rps", title: "Requests per second", unit: "req/s", value: |p| p.requests_per_second },
    Series { id: "p50", title: "Latency p50", unit: "ms", value: |p| p.p50_ms },
    Series { id: "p99", title: "Latency p99", unit: "ms", value: |p| p.p99_ms },
    Series { id: "errors", title: "Error rate", unit: "%", value: |p| p.error_rate * 100.0 },
    Series { id: "sse", title: "Open event streams", unit: "", value: |p| p.sse_connections as f64 },
    Series { id: "queue", title: "Queue depth", unit: "jobs", value: |p| p.queue_depth as f64 },
    Series { id: "signups", title: "Sign-ups per hour", unit: "/h", value: |p| p.signups_per_hour as f64 },
    Series { id: "posts", title: "Posts per hour", unit: "/h", value: |p| p.posts_per_hour as f64 },
];
