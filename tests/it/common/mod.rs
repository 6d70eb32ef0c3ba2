//! The shared test harness: a [`TestApp`] is the real router over a fresh database
//! (a temporary SQLite file, or a new PostgreSQL database dropped afterwards), driven
//! in-process with `oneshot`, plus a tiny cookie-keeping client.
#![allow(dead_code)]

mod client;
mod fixtures;
pub mod temp;

pub use client::*;
pub use fixtures::*;

use axum::{body::Body, http::Request, Router};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use quire::{config::Config, db::Db, startup, state::AppState};
use serde_json::Value;
use tower::ServiceExt;

/// The PostgreSQL server tests create their databases on (the test command sets it;
/// the default is the machine's local server).
pub fn postgres_admin_url() -> String {
    std::env::var("QUIRE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `admin_url` with its database replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> String {
    match admin_url.rfind('/') {
        Some(i) => format!("{}/{}", &admin_url[..i], name),
        None => panic!("QUIRE_TEST_POSTGRES_URL must name a database"),
    }
}

/// The migrated database every PostgreSQL test database is copied from: copying it takes a
/// fraction of the time that running the migrations in each one did (~0.75 s a test). Made
/// once per run of the test binary, and named after the migrations, so a changed migration
/// gets a template of its own; the app still runs its migrations on each copy (a no-op), as
/// `quire serve` would.
fn postgres_template(admin_url: &str) -> String {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            // Each test has a runtime of its own; the template outlives any of them.
            let admin_url = admin_url.to_string();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(make_postgres_template(&admin_url))
            })
            .join()
            .expect("template database")
        })
        .clone()
}

async fn make_postgres_template(admin_url: &str) -> String {
    use sqlx::Connection;
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut files: Vec<_> =
        std::fs::read_dir("migrations/postgres").expect("migrations").flatten().map(|e| e.path()).collect();
    files.sort();
    for f in files {
        f.file_name().hash(&mut hasher);
        std::fs::read(&f).expect("migration").hash(&mut hasher);
    }
    let name = format!("quire_t_template_{:016x}", hasher.finish());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at QUIRE_TEST_POSTGRES_URL ({admin_url}) must be reachable: {e}"));
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .expect("look for the template");
    if !exists {
        // Built under a name of its own and renamed when complete: a run stopped half-way
        // leaves no half-migrated template behind under the real name.
        let building = format!("quire_t_building_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE \"{building}\"")).execute(&mut admin).await.expect("create template");
        let db = Db::connect(&database_url(admin_url, &building), &Default::default()).await.expect("template pool");
        db.migrate().await.expect("migrate the template");
        if let Db::Postgres(pool) = db {
            pool.close().await;
        }
        let renamed =
            sqlx::query(&format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\"")).execute(&mut admin).await;
        if renamed.is_err() {
            // Another test binary made it meanwhile.
            let _ =
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)")).execute(&mut admin).await;
        }
    }
    let _ = admin.close().await;
    name
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    _sqlite_dir: Option<temp::TempDir>,
    pg_database: Option<PgDatabase>,
}

/// A throw-away PostgreSQL database, dropped when the test ends.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime; do the async clean-up on a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

fn test_config(database_url: String, data_dir: std::path::PathBuf, extra: &[(&str, &str)]) -> Config {
    let mut vars: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    // Tests sign many accounts in from one "address"; the rate-limit tests set their own limits.
    // So do the caps on open event streams (the SSE tests open hundreds).
    for (k, v) in [
        ("QUIRE_RATE_LIMIT_AUTH", "100000"),
        ("QUIRE_RATE_LIMIT_ANON", "100000"),
        ("QUIRE_RATE_LIMIT_USER", "100000"),
        ("QUIRE_SSE_MAX_PER_USER", "100000"),
        ("QUIRE_SSE_MAX_PER_IP", "100000"),
    ] {
        vars.insert(k.to_string(), v.to_string());
    }
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    vars.insert("DATABASE_URL".to_string(), database_url);
    vars.insert("QUIRE_DATA_DIR".to_string(), data_dir.display().to_string());
    vars.insert("QUIRE_DB_MAX_CONNECTIONS".to_string(), "4".to_string());
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration is valid");
    // QUIRE_TEST_LOG=debug (say) shows the server's logs while a test runs.
    if let Ok(filter) = std::env::var("QUIRE_TEST_LOG") {
        let mut c = config.clone();
        c.log_filter = filter;
        quire::telemetry::init(&c);
    }
    config
}

fn test_leptos_options() -> LeptosOptions {
    LeptosOptions::builder().output_name("quire").site_root("target/site").build()
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// Whether this app runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.db(), Db::Postgres(_))
    }

    pub async fn sqlite() -> Self {
        Self::sqlite_with(&[]).await
    }

    /// A SQLite app with extra configuration variables.
    pub async fn sqlite_with(extra: &[(&str, &str)]) -> Self {
        let dir = temp::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("quire.db").display());
        let config = test_config(url, dir.path().to_path_buf(), extra);
        let state = startup::build_state(config, test_leptos_options()).await.expect("sqlite state");
        Self { router: startup::router(state.clone()), state, _sqlite_dir: Some(dir), pg_database: None }
    }

    pub async fn postgres() -> Self {
        Self::postgres_with(&[]).await
    }

    /// A PostgreSQL app with extra configuration variables.
    pub async fn postgres_with(extra: &[(&str, &str)]) -> Self {
        use sqlx::Connection;
        let admin_url = postgres_admin_url();
        let template = postgres_template(&admin_url);
        let name = format!("quire_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at QUIRE_TEST_POSTGRES_URL ({admin_url}) must be reachable: {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let guard = PgDatabase { admin_url: admin_url.clone(), name: name.clone() };
        let url = database_url(&admin_url, &name);
        let dir = temp::tempdir().expect("temp dir");
        let config = test_config(url, dir.path().to_path_buf(), extra);
        let state = startup::build_state(config, test_leptos_options()).await.expect("postgres state");
        Self { router: startup::router(state.clone()), state, _sqlite_dir: Some(dir), pg_database: Some(guard) }
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// One integer from SQL run on whichever database the app uses (`SELECT COUNT(*) …`).
    pub async fn count(&self, sql: &str) -> i64 {
        match self.db() {
            Db::Sqlite(p, ..) => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await.unwrap(),
        }
    }

    pub fn bus(&self) -> &quire::services::events::Bus {
        &self.state.bus
    }

    /// Another `quire serve` process on the same database, as a second node behind a load
    /// balancer would be: its own state (bus, caches, workers) and router.
    pub async fn second_node(&self) -> (Router, AppState) {
        let config = (*self.state.config).clone();
        let state = startup::build_state(config, test_leptos_options()).await.expect("second node");
        (startup::router(state.clone()), state)
    }

    /// Starts the job workers, as `quire serve` does.
    pub fn start_workers(&self) {
        startup::spawn_workers(&self.state);
    }

    pub fn client(&self) -> Client<'_> {
        Client { app: self, cookie: None }
    }

    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        let res = self.router.clone().oneshot(req).await.expect("router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.expect("body").to_bytes().to_vec();
        TestResponse { status, headers, body }
    }
}

/// Builds a [`TestApp`]: `TestApp::builder().postgres().with(&[("QUIRE_X", "1")]).build()`, or
/// `.with_user(email)` for the app and a signed-up account with a bearer token.
#[derive(Default)]
pub struct TestAppBuilder {
    postgres: bool,
    vars: Vec<(String, String)>,
}

impl TestAppBuilder {
    /// On a fresh PostgreSQL database (default: a fresh SQLite file).
    pub fn postgres(self) -> Self {
        self.on_postgres(true)
    }

    pub fn on_postgres(mut self, postgres: bool) -> Self {
        self.postgres = postgres;
        self
    }

    /// Configuration variables (later ones win).
    pub fn with(mut self, vars: &[(&str, &str)]) -> Self {
        self.vars.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    pub async fn build(self) -> TestApp {
        let vars: Vec<(&str, &str)> = self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if self.postgres {
            TestApp::postgres_with(&vars).await
        } else {
            TestApp::sqlite_with(&vars).await
        }
    }

    /// The app, an account `email` (password `password123`) and a read-write token for it.
    pub async fn with_user(self, email: &str) -> (TestApp, Value, String) {
        let app = self.build().await;
        let (user, token) = user_with_token(&app, email).await;
        (app, user, token)
    }
}

/// Creates the same async test for SQLite and PostgreSQL: `name::sqlite`, `name::postgres`.
/// `on_both_databases!(a, b)`; with configuration variables for both,
/// `on_both_databases!(with &[("QUIRE_X", "1")]; a, b)`; on a multi-threaded runtime,
/// `on_both_databases!(multi_thread; a, b)`.
#[macro_export]
macro_rules! on_both_databases {
    (multi_thread; $($name:ident),* $(,)?) => {
        $crate::on_both_databases!(@tests [tokio::test(flavor = "multi_thread", worker_threads = 4)] (&[]); $($name),*);
    };
    (with $vars:expr; $($name:ident),* $(,)?) => {
        $crate::on_both_databases!(@tests [tokio::test] ($vars); $($name),*);
    };
    (@tests [$attr:meta] ($vars:expr); $($name:ident),*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[$attr]
                async fn sqlite() {
                    super::$name($crate::common::TestApp::builder().with($vars).build().await).await
                }
                #[$attr]
                async fn postgres() {
                    super::$name($crate::common::TestApp::builder().postgres().with($vars).build().await).await
                }
            }
        )*
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_databases!(@tests [tokio::test] (&[]); $($name),*);
    };
}
