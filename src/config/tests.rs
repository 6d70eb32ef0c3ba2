//! Configuration from the environment: defaults, bounds, and bad values naming their variable.

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
    assert!(c.page_cache);
}

#[test]
fn the_pool_fits_the_database() {
    assert_eq!(cfg(&[]).unwrap().db_max_connections, 4);
    assert_eq!(cfg(&[("DATABASE_URL", "postgres://db/quire")]).unwrap().db_max_connections, 16);
    assert_eq!(cfg(&[("QUIRE_DB_MAX_CONNECTIONS", "9")]).unwrap().db_max_connections, 9);
}

#[test]
fn a_bad_value_names_its_variable() {
    assert_eq!(cfg(&[("QUIRE_ADDR", "nope")]).unwrap_err().var, "QUIRE_ADDR");
    assert_eq!(cfg(&[("LOG_FORMAT", "xml")]).unwrap_err().var, "LOG_FORMAT");
    assert_eq!(cfg(&[("QUIRE_COOKIE_SECURE", "maybe")]).unwrap_err().var, "QUIRE_COOKIE_SECURE");
    assert_eq!(cfg(&[("DATABASE_URL", "mysql://x")]).unwrap_err().var, "DATABASE_URL");
    assert_eq!(cfg(&[("REDIS_URL", "http://cache")]).unwrap_err().var, "REDIS_URL");
    assert_eq!(cfg(&[("QUIRE_METRICS_ADDR", "everywhere")]).unwrap_err().var, "QUIRE_METRICS_ADDR");
    assert_eq!(
        cfg(&[("QUIRE_ADDR", "127.0.0.1:3000"), ("QUIRE_METRICS_ADDR", "127.0.0.1:3000")]).unwrap_err().var,
        "QUIRE_METRICS_ADDR"
    );
    assert_eq!(cfg(&[("QUIRE_CORS_ORIGINS", "*")]).unwrap_err().var, "QUIRE_CORS_ORIGINS");
    assert_eq!(cfg(&[("QUIRE_TRUSTED_PROXIES", "10.0.0.1,nope")]).unwrap_err().var, "QUIRE_TRUSTED_PROXIES");
    assert_eq!(cfg(&[("QUIRE_RATE_LIMIT_AUTH", "0")]).unwrap_err().var, "QUIRE_RATE_LIMIT_AUTH");
}

#[test]
fn secrets_do_not_print() {
    let c = cfg(&[("DATABASE_URL", "postgres://u:hunter2@db/q")]).unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
}
