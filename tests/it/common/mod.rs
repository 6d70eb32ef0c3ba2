//! The shared test harness: a [`TestApp`] is the real router over a fresh database
//! (a temporary SQLite file, or a new PostgreSQL database dropped afterwards), driven
//! in-process with `oneshot`, plus a tiny cookie-keeping client.
#![allow(dead_code)]

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode},
    Router,
};
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

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    _sqlite_dir: Option<tempfile::TempDir>,
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
    pub async fn sqlite() -> Self {
        Self::sqlite_with(&[]).await
    }

    /// A SQLite app with extra configuration variables.
    pub async fn sqlite_with(extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
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
        let name = format!("quire_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at QUIRE_TEST_POSTGRES_URL ({admin_url}) must be reachable: {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await.expect("create test database");
        let _ = admin.close().await;
        let guard = PgDatabase { admin_url: admin_url.clone(), name: name.clone() };
        let url = match admin_url.rfind('/') {
            Some(i) => format!("{}/{}", &admin_url[..i], name),
            None => panic!("QUIRE_TEST_POSTGRES_URL must name a database"),
        };
        let dir = tempfile::tempdir().expect("temp dir");
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
            Db::Sqlite(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await.unwrap(),
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

/// A browser-like client: keeps the session cookie between requests.
pub struct Client<'a> {
    app: &'a TestApp,
    pub cookie: Option<String>,
}

pub struct RequestSpec {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl<'a> Client<'a> {
    pub async fn request(&mut self, spec: RequestSpec) -> TestResponse {
        let mut builder = Request::builder().method(spec.method).uri(&spec.path).header(header::HOST, "quire.test");
        for (k, v) in &spec.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let Some(c) = &self.cookie {
            builder = builder.header(header::COOKIE, c.as_str());
        }
        let res = self.app.send(builder.body(spec.body).expect("request")).await;
        if let Some(set) = res.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or("").to_string();
            // An expired cookie (Max-Age=0) is the server clearing it.
            if set.contains("Max-Age=0") {
                self.cookie = None;
            } else {
                self.cookie = Some(pair);
            }
        }
        res
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.request(RequestSpec { method: Method::GET, path: path.into(), headers: vec![], body: Body::empty() }).await
    }

    /// A page load as a browser does it.
    pub async fn get_page(&mut self, path: &str) -> TestResponse {
        self.request(RequestSpec {
            method: Method::GET,
            path: path.into(),
            headers: vec![("accept".into(), "text/html".into())],
            body: Body::empty(),
        })
        .await
    }

    pub async fn post_json(&mut self, path: &str, body: Value) -> TestResponse {
        self.request(RequestSpec {
            method: Method::POST,
            path: path.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Body::from(body.to_string()),
        })
        .await
    }

    /// A server function called as the hydrated app calls it (fetch, form-encoded).
    pub async fn call_fn(&mut self, path: &str, form: &[(&str, &str)]) -> TestResponse {
        self.request(RequestSpec {
            method: Method::POST,
            path: path.into(),
            headers: vec![
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
                ("accept".into(), "application/json".into()),
                ("origin".into(), "http://quire.test".into()),
            ],
            body: Body::from(encode_form(form)),
        })
        .await
    }

    /// A plain HTML form post (no JavaScript): the browser sends Accept: text/html and a Referer.
    pub async fn submit_form(&mut self, path: &str, referer: &str, form: &[(&str, &str)]) -> TestResponse {
        self.request(RequestSpec {
            method: Method::POST,
            path: path.into(),
            headers: vec![
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
                ("accept".into(), "text/html,application/xhtml+xml".into()),
                ("origin".into(), "http://quire.test".into()),
                ("referer".into(), format!("http://quire.test{referer}")),
            ],
            body: Body::from(encode_form(form)),
        })
        .await
    }
}

pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap<HeaderValue>,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Asserts the body is a problem document with `status` and `code`, and returns it.
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type; body: {}",
            self.text()
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code, "code; body: {body}");
        for member in ["type", "title", "detail", "request_id"] {
            assert!(body[member].is_string(), "problem member `{member}` missing: {body}");
        }
        assert_eq!(Some(body["request_id"].as_str().unwrap()), self.header("x-request-id"));
        body
    }
}

/// Registers an account through the REST API and returns its JSON.
pub async fn register(app: &TestApp, email: &str, name: &str, password: &str) -> Value {
    let res = app
        .client()
        .post_json("/api/v1/auth/register", serde_json::json!({"email": email, "name": name, "password": password}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()
}

/// An account and a read-write bearer token for it (registered through the API).
pub async fn user_with_token(app: &TestApp, email: &str) -> (Value, String) {
    let user = register(app, email, email.split('@').next().unwrap_or("user"), "password123").await;
    let res = app
        .client()
        .post_json("/api/v1/auth/token", serde_json::json!({"email": email, "password": "password123"}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    (user, res.json()["token"].as_str().unwrap().to_string())
}

/// Creates a post through the API (`Body of <title>`, category tech) and returns its JSON.
pub async fn new_post(app: &TestApp, token: &str, title: &str, tags: &[&str], publish: bool) -> Value {
    let res = app
        .client()
        .api(
            Method::POST,
            "/api/v1/posts",
            Some(token),
            Some(serde_json::json!({"title": title, "body": format!("Body of {title}"), "category": "tech", "tags": tags, "published": publish})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()
}

/// An administrator (created by the service, as `quire user create --admin` does) and a token.
pub async fn admin_with_token(app: &TestApp, email: &str) -> (Value, String) {
    let account = quire::models::validation::NewAccount::parse(email, "Admin", "password123").unwrap();
    quire::services::accounts::register(app.db(), account, quire::models::Role::Admin).await.unwrap();
    let res = app
        .client()
        .post_json("/api/v1/auth/token", serde_json::json!({"email": email, "password": "password123"}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let token = res.json()["token"].as_str().unwrap().to_string();
    let me = app.client().api(Method::GET, "/api/v1/me", Some(&token), None, &[]).await.json();
    (me, token)
}

impl<'a> Client<'a> {
    /// An API call: optional bearer token, optional JSON body, extra headers.
    pub async fn api(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut h: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if let Some(t) = token {
            h.push(("authorization".into(), format!("Bearer {t}")));
        }
        let body = match body {
            Some(b) => {
                h.push(("content-type".into(), "application/json".into()));
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        self.request(RequestSpec { method, path: path.into(), headers: h, body }).await
    }
}

/// Creates the same async test for SQLite and PostgreSQL: `name::sqlite`, `name::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::common::TestApp::sqlite().await).await
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::common::TestApp::postgres().await).await
                }
            }
        )*
    };
}

/// A multipart body with one file field: (content type, body).
pub fn multipart(field: &str, filename: &str, declared: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "quire-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {declared}\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A valid 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// `POST /api/v1/uploads` with a bearer token.
pub async fn upload(app: &TestApp, token: &str, ct: String, body: Vec<u8>) -> TestResponse {
    app.client()
        .request(RequestSpec {
            method: Method::POST,
            path: "/api/v1/uploads".into(),
            headers: vec![("authorization".into(), format!("Bearer {token}")), ("content-type".into(), ct)],
            body: Body::from(body),
        })
        .await
}

/// A signed-in browser (session cookie) for a new account with password `password123`.
pub async fn browser<'a>(app: &'a TestApp, email: &str) -> Client<'a> {
    register(app, email, email.split('@').next().unwrap_or("user"), "password123").await;
    let mut c = app.client();
    let res = c.call_fn("/fn/login", &[("email", email), ("password", "password123")]).await;
    assert!(res.status.is_success() || res.status.is_redirection(), "{}", res.text());
    assert!(c.cookie.is_some());
    c
}
