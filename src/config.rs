//! Configuration, read once at start-up from the environment (and `.env` if present)
//! into a typed struct. A bad value stops start-up with a message naming the variable.

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// QUIRE_ADDR: where to listen.
    pub addr: SocketAddr,
    /// QUIRE_DATA_DIR: where the SQLite file and uploads live.
    pub data_dir: PathBuf,
    /// DATABASE_URL: `postgres://…` or `sqlite://…`; unset means `<data dir>/quire.db`.
    pub database_url: Secret<String>,
    /// QUIRE_DB_MAX_CONNECTIONS
    pub db_max_connections: u32,
    /// LOG_FORMAT: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// QUIRE_LOG (or RUST_LOG): a tracing filter such as `info,quire=debug`.
    pub log_filter: String,
    /// QUIRE_COOKIE_SECURE: mark the session cookie `Secure` (set it when served over https).
    pub cookie_secure: bool,
    /// QUIRE_SESSION_DAYS: idle lifetime of a browser session.
    pub session_idle: Duration,
    /// QUIRE_TOKEN_TTL_HOURS: lifetime of tokens from `POST /api/v1/auth/token`.
    pub token_ttl: Duration,
    /// QUIRE_SHUTDOWN_GRACE_SECS: how long in-flight requests may take after SIGTERM.
    pub shutdown_grace: Duration,
    /// QUIRE_REQUEST_TIMEOUT_SECS: a request still running after this answers 504.
    pub request_timeout: Duration,
    /// QUIRE_SITE_ROOT: where the built site (pkg/, assets) is served from.
    pub site_root: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error in {}: {}", self.var, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment (after loading `.env` if there is one).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());

        let addr = parse(&get, "QUIRE_ADDR", "127.0.0.1:3000".parse().expect("valid default"))?;
        let data_dir = PathBuf::from(get("QUIRE_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = match get("DATABASE_URL") {
            Some(url)
                if url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:") =>
            {
                url
            }
            Some(_) => {
                return Err(ConfigError {
                    var: "DATABASE_URL",
                    message: "must start with postgres://, postgresql:// or sqlite:".into(),
                })
            }
            None => format!("sqlite://{}", data_dir.join("quire.db").display()),
        };
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("text") | Some("pretty") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    var: "LOG_FORMAT",
                    message: format!("expected `text` or `json`, got `{other}`"),
                })
            }
        };
        let log_filter = get("QUIRE_LOG").or_else(|| get("RUST_LOG")).unwrap_or_else(|| "info".into());
        let db_max_connections: u32 = parse(&get, "QUIRE_DB_MAX_CONNECTIONS", 16)?;
        if db_max_connections == 0 {
            return Err(ConfigError { var: "QUIRE_DB_MAX_CONNECTIONS", message: "must be at least 1".into() });
        }
        let cookie_secure = parse_bool(&get, "QUIRE_COOKIE_SECURE", false)?;
        let session_days: u64 = parse(&get, "QUIRE_SESSION_DAYS", 14)?;
        let token_hours: u64 = parse(&get, "QUIRE_TOKEN_TTL_HOURS", 24 * 30)?;
        let grace: u64 = parse(&get, "QUIRE_SHUTDOWN_GRACE_SECS", 20)?;
        let timeout: u64 = parse(&get, "QUIRE_REQUEST_TIMEOUT_SECS", 10)?;
        if timeout == 0 {
            return Err(ConfigError { var: "QUIRE_REQUEST_TIMEOUT_SECS", message: "must be at least 1".into() });
        }
        if session_days == 0 {
            return Err(ConfigError { var: "QUIRE_SESSION_DAYS", message: "must be at least 1".into() });
        }
        if token_hours == 0 {
            return Err(ConfigError { var: "QUIRE_TOKEN_TTL_HOURS", message: "must be at least 1".into() });
        }

        Ok(Config {
            addr,
            data_dir,
            database_url: Secret::new(database_url),
            db_max_connections,
            log_format,
            log_filter,
            cookie_secure,
            session_idle: Duration::from_secs(session_days * 86_400),
            token_ttl: Duration::from_secs(token_hours * 3_600),
            shutdown_grace: Duration::from_secs(grace),
            request_timeout: Duration::from_secs(timeout),
            site_root: get("QUIRE_SITE_ROOT"),
        })
    }
}

fn parse<T: FromStr>(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    match get(var) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|e| ConfigError { var, message: format!("cannot parse `{raw}`: {e}") }),
    }
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(var).map(|v| v.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError { var, message: format!("expected true or false, got `{other}`") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_run_locally_on_sqlite() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database_url.expose(), "sqlite://data/quire.db");
        assert!(!c.cookie_secure);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        assert_eq!(cfg(&[("QUIRE_ADDR", "nope")]).unwrap_err().var, "QUIRE_ADDR");
        assert_eq!(cfg(&[("LOG_FORMAT", "xml")]).unwrap_err().var, "LOG_FORMAT");
        assert_eq!(cfg(&[("QUIRE_COOKIE_SECURE", "maybe")]).unwrap_err().var, "QUIRE_COOKIE_SECURE");
        assert_eq!(cfg(&[("DATABASE_URL", "mysql://x")]).unwrap_err().var, "DATABASE_URL");
    }

    #[test]
    fn secrets_do_not_print() {
        let c = cfg(&[("DATABASE_URL", "postgres://u:hunter2@db/q")]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
