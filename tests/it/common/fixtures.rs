//! Ready-made accounts, posts and uploads for tests, made through the API as a client would.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Method, StatusCode},
};
use serde_json::Value;

use super::{Client, RequestSpec, TestApp, TestResponse};

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

/// Polls `check` until it holds (background work such as job workers), for at most 10 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}
