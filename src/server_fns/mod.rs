//! Server functions: the UI's mutations and reads, mounted under `/fn/`. Each is a thin
//! wrapper (compiled to an HTTP call in the browser) around a service call on the server.

pub mod account;
pub mod admin;
pub mod auth;
pub mod editor;
pub mod posts;
pub mod reports;
pub mod tokens;

#[cfg(feature = "ssr")]
pub(crate) mod ctx;
