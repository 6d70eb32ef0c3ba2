//! Configuration, read once at start-up from the environment (and `.env` if present)
//! into a typed struct. A bad value stops start-up with a message naming the variable.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

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
    /// QUIRE_METRICS_ADDR: where `/metrics` (Prometheus) is served; unset: nowhere. Never the
    /// public address.
    pub metrics_addr: Option<SocketAddr>,
    /// REDIS_URL: `redis://…` shared by every node (rate limits, cache invalidation); unset:
    /// this node alone.
    pub redis_url: Option<Secret<String>>,
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
    /// QUIRE_UPLOAD_IDLE_TIMEOUT_SECS: an upload that sends nothing for this long fails with
    /// 408 (uploads have no total timeout: a slow link may take as long as it needs).
    pub upload_idle_timeout: Duration,
    /// QUIRE_SITE_ROOT: where the built site (pkg/, assets) is served from.
    pub site_root: Option<String>,
    /// QUIRE_CORS_ORIGINS: comma-separated origins allowed to call the API from a browser
    /// (with credentials). Empty: no cross-origin access.
    pub cors_origins: Vec<String>,
    /// QUIRE_TRUSTED_PROXIES: comma-separated peer IPs whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// QUIRE_RATE_LIMIT_ANON / _USER / _AUTH: requests per minute.
    pub rate_limits: RateLimits,
    /// QUIRE_CACHE_TTL_SECS: how long a hot public read stays in the server-side cache.
    pub cache_ttl: Duration,
    /// QUIRE_CACHE_MAX_MB: memory the server-side cache may hold.
    pub cache_max_bytes: u64,
    /// QUIRE_PAGE_CACHE (default on): keep the public pages anonymous visitors see (the front
    /// page, post pages) in the server-side cache too.
    pub page_cache: bool,
    /// QUIRE_UPLOAD_DIR: where uploaded files are stored (default `<data dir>/uploads`).
    pub upload_dir: PathBuf,
    /// QUIRE_STRIPE_WEBHOOK_SECRET: the endpoint's signing secret(s) (`whsec_…`), comma-separated
    /// while a secret is being rolled. Unset: the Stripe webhook answers 503.
    pub stripe_webhook_secrets: Vec<Secret<String>>,
    /// QUIRE_STRIPE_TOLERANCE_SECS: how old a signed Stripe timestamp may be.
    pub stripe_tolerance: Duration,
    /// QUIRE_STRIPE_CHECKOUT_URL: the Stripe Checkout / Payment Link the upgrade button opens
    /// (`client_reference_id` is appended).
    pub stripe_checkout_url: Option<String>,
    /// QUIRE_GITHUB_WEBHOOK_SECRET: the GitHub webhook's secret. Unset: that webhook answers 503.
    pub github_webhook_secret: Option<Secret<String>>,
    /// QUIRE_SSE_HEARTBEAT_SECS: the heartbeat comment's interval on event streams.
    pub sse_heartbeat: Duration,
    /// QUIRE_JOB_WORKERS (0 turns this node's workers off), QUIRE_JOB_MAX_ATTEMPTS,
    /// QUIRE_JOB_LEASE_SECS, QUIRE_JOB_BACKOFF_SECS, QUIRE_JOB_POLL_MS.
    pub job_workers: usize,
    pub jobs: QueueSettings,
    /// QUIRE_REPORT_DIR: where report exports are written (default `<data dir>/reports`).
    pub report_dir: PathBuf,
    /// QUIRE_EXPORTS_MAX: report exports running at once in this process (default 2).
    pub exports_max: usize,
    /// QUIRE_EXPORTS_PER_USER: report exports one user may run at once (default 1).
    pub exports_per_user: usize,
    /// QUIRE_SSE_MAX_PER_USER: open event streams per user on this node (default 10).
    pub sse_max_per_user: usize,
    /// QUIRE_SSE_MAX_PER_IP: open event streams per client address (IPv6: per /64) on this node (default 50).
    pub sse_max_per_ip: usize,
}

/// How the queue behaves (from configuration).
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// Attempts before a job ends `failed`.
    pub max_attempts: i64,
    /// How long a claimed job is a worker's before another may take it over.
    pub lease: Duration,
    /// The first retry's delay; each later one doubles, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// How often an idle worker looks for due jobs (enqueues on this node wake it at once).
    pub poll: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            max_attempts: 8,
            lease: Duration::from_secs(60),
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(3600),
            poll: Duration::from_secs(1),
        }
    }
}

/// Requests per minute, per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Anonymous callers, per IP.
    pub anonymous: u32,
    /// Authenticated callers, per user.
    pub user: u32,
    /// `/api/v1/auth/*` and the sign-in and registration forms, per IP.
    pub auth: u32,
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
        // SQLite runs in this process: each connection keeps its own page cache and statement
        // cache (~1.4 MiB after load) and a thread, while one writer at a time and two cores
        // gain nothing from more than a few readers (measured: same throughput with 4 as with
        // 16, 16 MiB less RSS). A PostgreSQL server is another machine's work to parallelise.
        let postgres = database_url.starts_with("postgres://") || database_url.starts_with("postgresql://");
        let default_pool = if postgres { 16 } else { 4 };
        let db_max_connections: u32 = parse(&get, "QUIRE_DB_MAX_CONNECTIONS", default_pool)?;
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
        let upload_idle = positive(&get, "QUIRE_UPLOAD_IDLE_TIMEOUT_SECS", 30)?;
        if session_days == 0 {
            return Err(ConfigError { var: "QUIRE_SESSION_DAYS", message: "must be at least 1".into() });
        }
        if token_hours == 0 {
            return Err(ConfigError { var: "QUIRE_TOKEN_TTL_HOURS", message: "must be at least 1".into() });
        }

        let cors_origins: Vec<String> = get("QUIRE_CORS_ORIGINS")
            .map(|v| {
                v.split(',').map(|o| o.trim().trim_end_matches('/').to_string()).filter(|o| !o.is_empty()).collect()
            })
            .unwrap_or_default();
        if let Some(bad) = cors_origins.iter().find(|o| {
            let host = o.strip_prefix("https://").or_else(|| o.strip_prefix("http://"));
            host.is_none_or(|h| h.is_empty() || h.contains('/'))
        }) {
            return Err(ConfigError {
                var: "QUIRE_CORS_ORIGINS",
                message: format!("`{bad}` is not an origin like https://app.example.com (`*` is not allowed)"),
            });
        }
        let trusted_proxies = match get("QUIRE_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpAddr>().map_err(|_| ConfigError {
                        var: "QUIRE_TRUSTED_PROXIES",
                        message: format!("`{s}` is not an IP address"),
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let rate_limits = RateLimits {
            anonymous: positive(&get, "QUIRE_RATE_LIMIT_ANON", 300)?,
            user: positive(&get, "QUIRE_RATE_LIMIT_USER", 1200)?,
            auth: positive(&get, "QUIRE_RATE_LIMIT_AUTH", 10)?,
        };
        let cache_ttl: u64 = parse(&get, "QUIRE_CACHE_TTL_SECS", 60)?;
        let cache_max_mb: u64 = parse(&get, "QUIRE_CACHE_MAX_MB", 8)?;
        let page_cache = parse_bool(&get, "QUIRE_PAGE_CACHE", true)?;
        let upload_dir = get("QUIRE_UPLOAD_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("uploads"));
        let report_dir = get("QUIRE_REPORT_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("reports"));
        let stripe_webhook_secrets: Vec<Secret<String>> = get("QUIRE_STRIPE_WEBHOOK_SECRET")
            .map(|v| {
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Secret::new(s.to_string())).collect()
            })
            .unwrap_or_default();
        let stripe_tolerance: u64 = parse(&get, "QUIRE_STRIPE_TOLERANCE_SECS", 300)?;
        let stripe_checkout_url = get("QUIRE_STRIPE_CHECKOUT_URL");
        if let Some(url) = &stripe_checkout_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ConfigError { var: "QUIRE_STRIPE_CHECKOUT_URL", message: "must be an http(s) URL".into() });
            }
        }
        let github_webhook_secret = get("QUIRE_GITHUB_WEBHOOK_SECRET").map(Secret::new);
        let heartbeat = positive(&get, "QUIRE_SSE_HEARTBEAT_SECS", 15)?;
        let exports_max = positive(&get, "QUIRE_EXPORTS_MAX", 2)? as usize;
        let exports_per_user = positive(&get, "QUIRE_EXPORTS_PER_USER", 1)? as usize;
        let sse_max_per_user = positive(&get, "QUIRE_SSE_MAX_PER_USER", 10)? as usize;
        let sse_max_per_ip = positive(&get, "QUIRE_SSE_MAX_PER_IP", 50)? as usize;
        let job_workers: usize = parse(&get, "QUIRE_JOB_WORKERS", 2)?;
        let metrics_addr = match get("QUIRE_METRICS_ADDR").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(raw) => Some(raw.trim().parse::<SocketAddr>().map_err(|e| ConfigError {
                var: "QUIRE_METRICS_ADDR",
                message: format!("cannot parse `{raw}` as host:port: {e}"),
            })?),
        };
        if metrics_addr.is_some() && metrics_addr == Some(addr) {
            return Err(ConfigError { var: "QUIRE_METRICS_ADDR", message: "must differ from QUIRE_ADDR".into() });
        }
        let redis_url = match get("REDIS_URL").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(raw) if raw.starts_with("redis://") || raw.starts_with("rediss://") => Some(Secret::new(raw)),
            Some(_) => {
                return Err(ConfigError { var: "REDIS_URL", message: "must start with redis:// or rediss://".into() })
            }
        };
        let jobs = QueueSettings {
            max_attempts: i64::from(positive(&get, "QUIRE_JOB_MAX_ATTEMPTS", 8)?),
            lease: Duration::from_secs(u64::from(positive(&get, "QUIRE_JOB_LEASE_SECS", 60)?)),
            base_backoff: Duration::from_secs(u64::from(positive(&get, "QUIRE_JOB_BACKOFF_SECS", 2)?)),
            max_backoff: Duration::from_secs(3600),
            poll: Duration::from_millis(u64::from(positive(&get, "QUIRE_JOB_POLL_MS", 1000)?)),
        };

        Ok(Config {
            addr,
            metrics_addr,
            redis_url,
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
            upload_idle_timeout: Duration::from_secs(u64::from(upload_idle)),
            site_root: get("QUIRE_SITE_ROOT"),
            cors_origins,
            trusted_proxies,
            rate_limits,
            cache_ttl: Duration::from_secs(cache_ttl),
            cache_max_bytes: cache_max_mb * 1024 * 1024,
            page_cache,
            upload_dir,
            stripe_webhook_secrets,
            stripe_tolerance: Duration::from_secs(stripe_tolerance),
            stripe_checkout_url,
            github_webhook_secret,
            sse_heartbeat: Duration::from_secs(u64::from(heartbeat)),
            job_workers,
            jobs,
            report_dir,
            exports_max,
            exports_per_user,
            sse_max_per_user,
            sse_max_per_ip,
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

fn positive(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: u32) -> Result<u32, ConfigError> {
    let v: u32 = parse(get, var, default)?;
    if v == 0 {
        return Err(ConfigError { var, message: "must be at least 1".into() });
    }
    Ok(v)
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
mod tests;
