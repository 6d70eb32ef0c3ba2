//! Quire's integration tests, as one test binary: the real router over SQLite and PostgreSQL
//! (and the `quire` binary itself in `cli`). One binary links once, where a file per test
//! binary linked the whole application twenty times over. Two files stay apart because they
//! measure the whole process: `tests/memory.rs` (a counting allocator) and
//! `tests/query_counts.rs` (the process-wide statement counter).

#[macro_use]
mod common;

mod account_safety;
mod api_conventions;
mod api_foundation;
mod api_resources;
mod api_surfaces;
mod api_tokens_uploads;
mod cli;
mod graphql_http;
mod group_commit;
mod hardening;
mod hostile_input;
mod jobs;
mod operations;
mod page_cache;
mod posts_service;
mod shared_nodes;
mod sqlite_storage;
mod sse;
mod web_accounts;
mod web_live;
mod web_posts;
mod webhooks;
