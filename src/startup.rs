//! Building the application: state from configuration, the router with every layer
//! composed once, and serving with graceful shutdown. Tests call [`router`] directly.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{middleware, Router};
use leptos::{config::LeptosOptions, prelude::*};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::catch_panic::CatchPanicLayer;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use crate::{
    config::Config,
    db::{sessions::SessionStore, Db, PoolSettings},
    handlers, middleware as mw,
    services::{
        cache,
        events::Bus,
        jobs::Queue,
        ops::{Gauges, Ops},
        rate_limit::Limiter,
        reports::Exports,
        shared,
        streams::StreamLimits,
        webhooks::Processor,
    },
    state::{AppState, Shared},
    ui::{shell, App},
};

/// Leptos' runtime options: `Leptos.toml` beside the binary if present (a deployed
/// binary has no Cargo.toml), else the `LEPTOS_*` variables cargo-leptos sets.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let file = std::path::Path::new("Leptos.toml");
    let conf = get_configuration(file.exists().then_some("Leptos.toml"))
        .or_else(|_| get_configuration(None))
        .map(|c| c.leptos_options)
        .unwrap_or_else(|_| LeptosOptions::builder().output_name("quire").build());
    let mut opts = conf;
    opts.site_addr = config.addr;
    if let Some(root) = &config.site_root {
        opts.site_root = root.clone().into();
    }
    opts
}

/// Opens (and migrates) the database and assembles the shared state.
pub async fn build_state(config: Config, leptos_options: LeptosOptions) -> anyhow::Result<AppState> {
    if !crate::db::is_postgres_url(config.database_url.expose()) {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| anyhow::anyhow!(format!("cannot create data directory {}: {e}", config.data_dir.display())))?;
    }
    let settings = PoolSettings { max_connections: config.db_max_connections, ..PoolSettings::default() };
    let db = Db::connect(config.database_url.expose(), &settings)
        .await
        .map_err(|e| anyhow::anyhow!(format!("cannot open the database (DATABASE_URL): {e}")))?;
    db.migrate().await.map_err(|e| anyhow::anyhow!(format!("migrations failed: {e}")))?;
    crate::telemetry::prometheus();
    let cache = Arc::new(cache::Store::new(config.cache_ttl, config.cache_max_bytes));
    // Several nodes: one rate-limit budget in Redis, and every write's invalidation sent to
    // every node. Without REDIS_URL, this node alone (nothing changes).
    let redis = match &config.redis_url {
        Some(url) => Some(
            shared::Shared::start(url.expose(), cache.clone())
                .map_err(|e| anyhow::anyhow!(format!("cannot use Redis (REDIS_URL): {e}")))?,
        ),
        None => None,
    };
    let limiter = match &redis {
        Some(link) => Limiter::with_store(config.rate_limits, |policies| {
            Arc::new(shared::RedisStore::new(link.clone(), policies))
        }),
        None => Limiter::in_memory(config.rate_limits),
    };
    limiter.spawn_housekeeping();
    let bus = match &db {
        Db::Postgres(pool) => Bus::postgres(pool.clone(), config.database_url.expose())
            .await
            .map_err(|e| anyhow::anyhow!(format!("cannot listen for events on PostgreSQL (DATABASE_URL): {e}")))?,
        Db::Sqlite(..) => Bus::in_process(),
    };
    let queue = Queue::new(db.clone(), config.jobs);
    let exports = Exports::new(config.exports_max, config.exports_per_user);
    let streams = StreamLimits::new(config.sse_max_per_user, config.sse_max_per_ip);
    let state = AppState::new(Shared {
        leptos_options,
        db,
        config: Arc::new(config),
        limiter,
        cache,
        bus,
        queue,
        exports,
        streams,
        ops: Ops::default(),
        redis,
        ready: AtomicBool::new(true),
    });
    spawn_sampler(&state);
    spawn_checkpointer(&state);
    Ok(state)
}

/// The size past which a SQLite node empties its write-ahead log itself (see
/// [`Db::checkpoint_if_grown`]); checked four times a second (a file's size: no query), for as
/// long as the state lives. A create adds ~80 kB to the log, so a node taking 3,000 a second
/// goes past this within the quarter.
pub const WAL_CHECKPOINT_BYTES: u64 = 64 << 20;

fn spawn_checkpointer(state: &AppState) {
    if state.db.dialect() != crate::db::Dialect::Sqlite {
        return;
    }
    let weak = state.downgrade();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // After a checkpoint that could not finish (another process kept writing), wait a
        // while before holding this node's writers back again; and say so once a minute.
        let mut not_before = tokio::time::Instant::now();
        let mut warned: Option<tokio::time::Instant> = None;
        loop {
            tick.tick().await;
            let Some(state) = AppState::upgrade(&weak) else { break };
            if tokio::time::Instant::now() < not_before {
                continue;
            }
            match state.db.checkpoint_if_grown(WAL_CHECKPOINT_BYTES).await {
                Ok(Some(c)) if c.done => {
                    metrics::counter!("quire_db_wal_checkpoints_total").increment(1);
                    tracing::debug!(bytes = c.wal_bytes, "write-ahead log copied and emptied");
                }
                Ok(Some(c)) => {
                    not_before = tokio::time::Instant::now() + Duration::from_secs(5);
                    if warned.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                        warned = Some(tokio::time::Instant::now());
                        tracing::warn!(
                            bytes = c.wal_bytes,
                            "write-ahead log could not be emptied (another process is using the file); trying again"
                        );
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::debug!(error = %e, "write-ahead log checkpoint failed"),
            }
        }
    });
}

/// Once a second, for as long as the state lives: closes this node's operations point and
/// sets the gauges Prometheus reads (event streams, the pool; the queue and the hourly counts
/// every five seconds, which cost a few queries).
fn spawn_sampler(state: &AppState) {
    let weak = state.downgrade();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut slow = Gauges::default();
        for n in 0u64.. {
            tick.tick().await;
            let Some(state) = AppState::upgrade(&weak) else { break };
            if n % 5 == 0 {
                match crate::services::ops::slow_gauges(&state.db).await {
                    Ok(g) => slow = g,
                    Err(e) => tracing::debug!(error = %e, "operations sampler could not read the database"),
                }
            }
            let sse = i64::try_from(state.streams.open()).unwrap_or(i64::MAX);
            metrics::gauge!("quire_sse_connections").set(sse as f64);
            let (size, idle) = state.db.pool_stats();
            metrics::gauge!("quire_db_pool_connections").set(f64::from(size));
            metrics::gauge!("quire_db_pool_idle").set(idle as f64);
            // Histogram samples wait in a lock-free bucket until drained: every second, so a
            // busy node holds at most a second of them.
            crate::telemetry::prometheus().run_upkeep();
            let now = chrono::Utc::now().timestamp_millis();
            state.ops.tick(now, Gauges { sse_connections: sse, ..slow });
        }
    });
}

/// Starts this node's job workers (QUIRE_JOB_WORKERS of them).
pub fn spawn_workers(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let handler = Arc::new(Processor { db: state.db.clone(), bus: state.bus.clone() });
    state.queue.spawn_workers(state.config.job_workers, handler)
}

/// The whole application: pages and server functions, the REST API, and the layers.
/// The app's route list, generated once per process. Generating it runs the whole app with
/// resource loading suppressed by a process-global flag (leptos_server), so a page rendering
/// on another thread meanwhile could start a resource that never resolves (leptos-rs/leptos#4773):
/// with several routers in one process (the test suite), generate it only once.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let session_layer = SessionManagerLayer::new(SessionStore::new(&state.db))
        .with_name(mw::page_cache::SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookie_secure)
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(state.config.session_idle).unwrap_or(time::Duration::days(14)),
        ));

    let app = Router::new()
        .leptos_routes_with_context(&state, routes, mw::security_headers::provide_request_nonce, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .nest_service("/api", handlers::router(state.clone()))
        .route("/uploads/{name}", axum::routing::get(handlers::uploads::serve))
        // Metrics label requests by the route they matched (the API's own routers set theirs).
        .route_layer(middleware::from_fn(mw::request_metrics::remember_route))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            {
                let state = state.clone();
                move || {
                    provide_context(state.clone());
                    mw::security_headers::provide_request_nonce();
                }
            },
            shell,
        ))
        .with_state(state.clone());

    // Layers run outside-in in the reverse order of these calls: the request id is set
    // first, so every later layer and log line sees it.
    let app = app
        .layer(session_layer)
        // Time limits, the Origin check, body limits, refused input; server-function statuses
        // and cache invalidation on the way out.
        .layer(middleware::from_fn_with_state(state.clone(), mw::edge::layer))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(mw::problem::layer))
        .layer(middleware::from_fn(mw::security_headers::page_nonce))
        .layer(middleware::from_fn(mw::request_id::layer))
        // Outermost: every answer is counted and timed, whatever answered it.
        .layer(middleware::from_fn_with_state(state.clone(), mw::request_metrics::track));
    // The batch endpoint runs its operations through this same stack (with every layer
    // above); the copy it gets carries no batch target itself, so batches cannot nest.
    app.clone().layer(axum::Extension(handlers::batch::BatchTarget(app)))
}

/// Serves until SIGINT/SIGTERM, then lets in-flight requests finish (up to the grace period).
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.addr;
    let grace = config.shutdown_grace;
    let options = leptos_options(&config);
    let state = build_state(config, options).await?;
    let db = state.db.clone();
    let workers = spawn_workers(&state);

    let cleanup = tokio::spawn(SessionStore::new(&db).continuously_delete_expired(Duration::from_secs(3600)));
    let purge = tokio::spawn({
        let db = db.clone();
        let report_dir = state.config.report_dir.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                match crate::services::idempotency::purge(&db).await {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "expired idempotency keys purged"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not purge idempotency keys"),
                }
                match crate::services::jobs::purge(&db).await {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "finished jobs purged"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not purge finished jobs"),
                }
                match crate::services::reports::purge(&db, &report_dir).await {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "old report exports deleted"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not delete old report exports"),
                }
            }
        }
    });
    let stop = shutdown_signal();

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!(format!("cannot listen on {addr} (QUIRE_ADDR): {e}")))?;
    tracing::info!(%addr, database = ?db.dialect(), shared = state.redis.is_some(), "Quire is listening on http://{addr}");
    let metrics = match state.config.metrics_addr {
        Some(at) => Some(serve_metrics(at).await?),
        None => None,
    };

    let bus = state.bus.clone();
    let node = state.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        stop.await;
        // Load balancers see /api/v1/ready answer 503 from now on and stop sending traffic.
        node.ready.store(false, Ordering::Release);
        tracing::info!("shutting down: finishing in-flight requests");
        // Event streams never finish by themselves: end them so they do not hold the shutdown.
        bus.close();
        let _ = tx.send(());
    });
    let server = tokio::spawn(async move { server.await });
    let _ = rx.await;
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "server error"),
        Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
        Err(_) => tracing::warn!("grace period over; dropping remaining connections"),
    }
    cleanup.abort();
    purge.abort();
    if let Some(m) = metrics {
        m.abort();
    }
    // A job cut off here keeps its lease; another worker takes it over when the lease ends.
    workers.iter().for_each(|w| w.abort());
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `GET /metrics` (Prometheus' text format) on its own listener: an operator's port,
/// never the public one.
async fn serve_metrics(at: SocketAddr) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(at)
        .await
        .map_err(|e| anyhow::anyhow!(format!("cannot listen on {at} (QUIRE_METRICS_ADDR): {e}")))?;
    tracing::info!(%at, "metrics on http://{at}/metrics");
    let app = Router::new().route(
        "/metrics",
        axum::routing::get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                crate::telemetry::prometheus().render(),
            )
        }),
    );
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    }))
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called (before the
/// listener opens), so a signal that arrives early still means a graceful stop.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
