#![recursion_limit = "512"]
//! Quire: a self-hostable publishing platform in one Leptos binary.
//!
//! Layout (the `ssr` boundary is drawn here, once):
//! - `ui` (pages, components), `server_fns` and `models`: built for the server and the browser;
//! - everything else only on the server: `handlers` (REST), `middleware` (tower layers and
//!   extractors), `services` (business rules), `db` (all SQL), `config`, `startup`, `cli`.

pub mod models;
pub mod server_fns;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod handlers;
#[cfg(feature = "ssr")]
pub mod middleware;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod startup;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod telemetry;

/// The browser entry point: hydrate the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    use leptos::prelude::window;
    console_error_panic_hook::set_once();
    // Server functions that redirect (sign-in, registration, sign-out) change who is signed in,
    // so they load the target page afresh instead of routing on the client with stale data.
    // Set before the router mounts, which would otherwise install client-side routing here.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|loc: &str| {
        let _ = window().location().set_href(loc);
    });
    // Islands: the loader hydrates each `<leptos-island>` after this returns, loading its
    // code first; the last one to be ready marks the page interactive.
    leptos::mount::hydrate_islands();
    ui::browser::expect_islands();
}
