//! Business rules, free of HTTP: server functions, REST handlers and background
//! workers all call these. Each takes the database handle and validated input.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod billing;
pub mod cache;
pub mod comments;
pub mod events;
pub mod idempotency;
pub mod jobs;
pub mod markdown;
pub mod notifications;
pub mod ops;
pub mod passwords;
pub mod post_page;
pub mod posts;
pub mod rate_limit;
pub mod reports;
pub mod seed;
pub mod shared;
pub mod streams;
pub mod tokens;
pub mod uploads;
pub mod users;
pub mod webhooks;
