//! The REST API's foundation: registration and tokens, `/me`, problem+json errors,
//! request ids and the health check — through the real router, on both databases.

use crate::common;

use axum::{
    body::Body,
    http::{Method, StatusCode},
};
use common::{RequestSpec, TestApp};
use serde_json::json;

async fn registration_returns_201_with_location_and_never_the_hash(app: TestApp) {
    let mut c = app.client();
    let res = c
        .post_json(
            "/api/v1/auth/register",
            json!({"email": "Api@Example.com", "name": "Api", "password": "long enough"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let user = res.json();
    assert_eq!(user["email"], "api@example.com");
    assert_eq!(user["role"], "user");
    assert_eq!(user["plan"], "free");
    assert!(user.get("password_hash").is_none());
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/users/{}", user["id"]));
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'), "RFC 3339 UTC");

    let bad = c.post_json("/api/v1/auth/register", json!({"email": "x", "name": "", "password": "1"})).await;
    let problem = bad.problem(422, "VALIDATION_ERROR");
    let fields: Vec<_> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "name", "password"]);

    let taken = c
        .post_json(
            "/api/v1/auth/register",
            json!({"email": "api@example.com", "name": "Two", "password": "long enough"}),
        )
        .await;
    assert_eq!(taken.problem(422, "VALIDATION_ERROR")["errors"][0]["field"], "email");
}

async fn a_token_is_issued_stored_as_a_hash_and_accepted_by_me(app: TestApp) {
    common::register(&app, "tok@example.com", "Tok", "password123").await;
    let mut c = app.client();
    let res = c.post_json("/api/v1/auth/token", json!({"email": "tok@example.com", "password": "password123"})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let body = res.json();
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(body["token_type"], "Bearer");
    let expires = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert!(expires > chrono::Utc::now());

    // Only the SHA-256 of the secret is in the database.
    let stored: Vec<String> = match app.db() {
        quire::db::Db::Sqlite(p, ..) => {
            sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_all(p).await.unwrap()
        }
        quire::db::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_all(p).await.unwrap()
        }
    };
    assert_eq!(stored, vec![quire::services::tokens::hash_secret(&token)]);
    assert!(!stored[0].contains(&token));

    let me = app
        .client()
        .request(RequestSpec {
            method: Method::GET,
            path: "/api/v1/me".into(),
            headers: vec![("authorization".into(), format!("Bearer {token}"))],
            body: Body::empty(),
        })
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["email"], "tok@example.com");
    assert_eq!(me.header("cache-control"), Some("private, no-cache"));

    let wrong = c.post_json("/api/v1/auth/token", json!({"email": "tok@example.com", "password": "nope nope"})).await;
    wrong.problem(401, "UNAUTHORIZED");
}

async fn me_without_or_with_bad_credentials_is_a_401_problem(app: TestApp) {
    let res = app.client().get("/api/v1/me").await;
    res.problem(401, "UNAUTHORIZED");
    assert!(res.header("www-authenticate").unwrap().starts_with("Bearer"));

    for auth in ["Bearer qrt_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "] {
        let res = app
            .client()
            .request(RequestSpec {
                method: Method::GET,
                path: "/api/v1/me".into(),
                headers: vec![("authorization".into(), auth.into())],
                body: Body::empty(),
            })
            .await;
        res.problem(401, "UNAUTHORIZED");
    }
}

async fn bad_bodies_get_4xx_problems_never_5xx(app: TestApp) {
    let send = |content_type: Option<&str>, body: String| RequestSpec {
        method: Method::POST,
        path: "/api/v1/auth/register".into(),
        headers: content_type.map(|t| vec![("content-type".to_string(), t.to_string())]).unwrap_or_default(),
        body: Body::from(body),
    };
    let mut c = app.client();
    c.request(send(Some("application/json"), "{not json".into())).await.problem(400, "BAD_REQUEST");
    c.request(send(Some("text/plain"), "{}".into())).await.problem(415, "UNSUPPORTED_MEDIA_TYPE");
    c.request(send(None, "{}".into())).await.problem(415, "UNSUPPORTED_MEDIA_TYPE");
    let unknown = json!({"email": "a@b.co", "name": "A", "password": "password123", "admin": true}).to_string();
    let res = c.request(send(Some("application/json"), unknown)).await;
    assert!(res.problem(400, "BAD_REQUEST")["detail"].as_str().unwrap().contains("admin"));
    let wrong_type = json!({"email": 5, "name": "A", "password": "password123"}).to_string();
    c.request(send(Some("application/json"), wrong_type)).await.problem(400, "BAD_REQUEST");
    let huge = format!("{{\"email\":\"{}\",\"name\":\"A\",\"password\":\"x\"}}", "a".repeat(1024 * 1024 + 10));
    c.request(send(Some("application/json"), huge)).await.problem(413, "PAYLOAD_TOO_LARGE");
}

async fn unknown_api_paths_and_wrong_methods_are_problems(app: TestApp) {
    let mut c = app.client();
    c.get("/api/v1/does-not-exist").await.problem(404, "NOT_FOUND");
    c.get("/api/nothing/here").await.problem(404, "NOT_FOUND");
    let res = c
        .request(RequestSpec {
            method: Method::DELETE,
            path: "/api/v1/health".into(),
            headers: vec![],
            body: Body::empty(),
        })
        .await;
    res.problem(405, "METHOD_NOT_ALLOWED");
    assert!(res.header("allow").unwrap().contains("GET"));
}

async fn request_ids_are_kept_when_sane_and_replaced_otherwise(app: TestApp) {
    let with_id = |id: &str| RequestSpec {
        method: Method::GET,
        path: "/api/v1/nope".into(),
        headers: vec![("x-request-id".into(), id.into())],
        body: Body::empty(),
    };
    let mut c = app.client();
    let kept = c.request(with_id("client-abc.123")).await;
    assert_eq!(kept.header("x-request-id"), Some("client-abc.123"));
    assert_eq!(kept.problem(404, "NOT_FOUND")["request_id"], "client-abc.123");

    let replaced = c.request(with_id("has spaces and <html>")).await;
    let id = replaced.header("x-request-id").unwrap();
    assert_ne!(id, "has spaces and <html>");
    assert!(uuid::Uuid::parse_str(id).is_ok());

    let generated = c.get("/api/v1/health").await;
    assert!(uuid::Uuid::parse_str(generated.header("x-request-id").unwrap()).is_ok());
}

async fn health_reports_the_database(app: TestApp) {
    let res = app.client().get("/api/v1/health").await;
    assert_eq!(res.status, StatusCode::OK);
    let body = res.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));

    app.db().close().await;
    let down = app.client().get("/api/v1/health").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.json()["database"], "unreachable");
}

async fn an_internal_failure_is_a_500_problem_without_internals(app: TestApp) {
    common::register(&app, "five@example.com", "Five", "password123").await;
    // Break the database under the running app: issuing a token now fails inside sqlx.
    match app.db() {
        quire::db::Db::Sqlite(p, ..) => sqlx::query("DROP TABLE api_tokens").execute(p).await.map(|_| ()).unwrap(),
        quire::db::Db::Postgres(p) => sqlx::query("DROP TABLE api_tokens").execute(p).await.map(|_| ()).unwrap(),
    }
    let res = app
        .client()
        .post_json("/api/v1/auth/token", json!({"email": "five@example.com", "password": "password123"}))
        .await;
    let problem = res.problem(500, "INTERNAL_ERROR");
    let text = res.text();
    assert!(!text.contains("api_tokens") && !text.to_lowercase().contains("sql"), "no internals: {text}");
    assert!(problem["detail"].as_str().unwrap().contains("Something went wrong"));
}

on_both_databases!(
    an_internal_failure_is_a_500_problem_without_internals,
    registration_returns_201_with_location_and_never_the_hash,
    a_token_is_issued_stored_as_a_hash_and_accepted_by_me,
    me_without_or_with_bad_credentials_is_a_401_problem,
    bad_bodies_get_4xx_problems_never_5xx,
    unknown_api_paths_and_wrong_methods_are_problems,
    request_ids_are_kept_when_sane_and_replaced_otherwise,
    health_reports_the_database,
);

#[test]
fn a_bad_configuration_value_names_its_variable() {
    let err = quire::config::Config::from_lookup(|k| (k == "QUIRE_DB_MAX_CONNECTIONS").then(|| "many".to_string()))
        .unwrap_err();
    assert_eq!(err.var, "QUIRE_DB_MAX_CONNECTIONS");
    assert!(err.to_string().contains("QUIRE_DB_MAX_CONNECTIONS"));
}
