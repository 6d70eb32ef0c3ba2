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
