//! Structured logs through `tracing`: JSON lines with LOG_FORMAT=json, readable text
//! otherwise. Request logs carry the request id from their span; nothing logs bodies,
//! passwords, tokens or cookies.

use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

use crate::config::{Config, LogFormat};

pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.log_format {
        LogFormat::Json => registry.with(fmt::layer().json().with_current_span(true).with_span_list(false)).try_init(),
        LogFormat::Text => {
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
            registry.with(fmt::layer().with_target(false).with_ansi(ansi)).try_init()
        }
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}

/// The Prometheus recorder behind the `metrics` macros, installed once per process (the
/// first call). Request latency is a histogram with these buckets (seconds), not a summary.
pub fn prometheus() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        const BUCKETS: [f64; 14] =
            [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".into()), &BUCKETS)
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "a metrics recorder was already installed; /metrics shows Quire's own only if it is this one"
            );
        }
        describe();
        handle
    })
}

/// What each series means (the `# HELP` lines).
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!("http_requests_total", "Requests answered, by method, route template and status");
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer, by method, route template and status"
    );
    describe_gauge!("http_requests_in_flight", "Requests being answered now");
    describe_gauge!("quire_sse_connections", "Open event streams on this node");
    describe_gauge!("quire_job_queue_depth", "Jobs by status (all nodes: the queue is in the database)");
    describe_counter!("quire_job_runs_total", "Job runs on this node, by outcome (done, retry, failed)");
    describe_counter!("quire_webhook_deliveries_total", "Webhook deliveries received, by source and outcome");
    describe_counter!("quire_rate_limit_refusals_total", "Requests refused by a rate limit, by policy");
    describe_counter!(
        "quire_cache_requests_total",
        "Server cache look-ups, by cache (api, page) and result (hit, miss)"
    );
    describe_gauge!("quire_db_pool_connections", "Database connections open in this node's pool");
    describe_gauge!("quire_db_pool_idle", "Idle database connections in this node's pool");
    describe_counter!("quire_db_pool_waits_total", "Connection acquisitions that waited over a millisecond");
    describe_counter!(
        "quire_db_connections_discarded_total",
        "SQLite connections closed on release because they were still inside a transaction"
    );
    describe_gauge!("quire_redis_up", "1 while Redis answers (REDIS_URL set), else 0");
    describe_counter!("quire_redis_failures_total", "Times Redis stopped answering");
    // Counters exist from the start (at 0), so every node shows every series.
    for outcome in ["done", "retry", "failed", "lost_lease"] {
        metrics::counter!("quire_job_runs_total", "outcome" => outcome).increment(0);
    }
    for source in ["stripe", "github"] {
        for outcome in ["queued", "recorded", "duplicate", "error"] {
            metrics::counter!("quire_webhook_deliveries_total", "source" => source, "outcome" => outcome).increment(0);
        }
    }
    for policy in ["auth", "anonymous", "user"] {
        metrics::counter!("quire_rate_limit_refusals_total", "policy" => policy).increment(0);
    }
    for cache in ["api", "page"] {
        for result in ["hit", "miss"] {
            metrics::counter!("quire_cache_requests_total", "cache" => cache, "result" => result).increment(0);
        }
    }
    metrics::counter!("quire_db_pool_waits_total").increment(0);
    metrics::counter!("quire_db_connections_discarded_total").increment(0);
    metrics::counter!("quire_redis_failures_total").increment(0);
    metrics::gauge!("http_requests_in_flight").set(0.0);
}
