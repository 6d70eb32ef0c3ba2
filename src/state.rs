//! What every request handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{config::Config, db::Db};

/// Shared application state. Axum handlers take parts of it through `FromRef`;
/// server functions get it from Leptos context (see `server_fns::ctx`).
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
}
