//! What every request handler and server function can reach.

use std::{
    ops::Deref,
    sync::{atomic::AtomicBool, Arc, Weak},
};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    config::Config,
    db::Db,
    services::{
        cache::Store,
        events::Bus,
        jobs::Queue,
        ops::Ops,
        rate_limit::Limiter,
        reports::{ExportContext, Exports},
        shared::Shared as Redis,
        streams::StreamLimits,
    },
};

/// Shared application state: one allocation behind an `Arc`, so the per-request clones that
/// tower's layers and Leptos' context make cost one atomic increment each. Handlers take it
/// with `State<AppState>` and read its parts through `Deref`; server functions get it from
/// Leptos context (see `server_fns::ctx`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    /// Rate-limit budgets (in process; the store is pluggable).
    pub limiter: Limiter,
    /// The server-side cache of hot public API reads.
    pub cache: Arc<Store>,
    /// Live events for SSE subscribers (shared between nodes on PostgreSQL).
    pub bus: Bus,
    /// The background job queue (in the database).
    pub queue: Queue,
    /// Report exports running in this process (bounded per user and in all).
    pub exports: Exports,
    /// Open event streams, capped per user and per client address.
    pub streams: StreamLimits,
    /// The live operations numbers (the admin dashboard; the metrics see the same events).
    pub ops: Ops,
    /// Redis, when several nodes share it (REDIS_URL).
    pub redis: Option<Arc<Redis>>,
    /// Whether this node takes traffic: false while it starts and once it begins to stop
    /// (`/api/v1/ready`).
    pub ready: AtomicBool,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }

    /// A handle that does not keep the state alive (for background tasks that end with it).
    pub fn downgrade(&self) -> Weak<Shared> {
        Arc::downgrade(&self.0)
    }

    pub fn upgrade(weak: &Weak<Shared>) -> Option<Self> {
        weak.upgrade().map(AppState)
    }

    /// What starting a report export needs.
    pub fn export_context(&self) -> ExportContext<'_> {
        ExportContext { db: &self.db, bus: &self.bus, exports: &self.exports, dir: &self.config.report_dir }
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Leptos' handlers take their options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
