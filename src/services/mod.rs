//! Business rules, free of HTTP: server functions, REST handlers and background
//! workers all call these. Each takes the database handle and validated input.

pub mod accounts;
pub mod comments;
pub mod idempotency;
pub mod markdown;
pub mod passwords;
pub mod posts;
pub mod rate_limit;
pub mod seed;
pub mod tokens;
pub mod uploads;
pub mod users;
