//! What every request handler and server function can reach.

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    config::Config,
    db::Db,
    services::{
        cache::Store,
        events::Bus,
        jobs::Queue,
        rate_limit::Limiter,
        reports::{ExportContext, Exports},
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
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
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
