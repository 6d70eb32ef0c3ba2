//! Personal access tokens and uploads through the real router, on SQLite and PostgreSQL.

use crate::common;

use axum::http::{Method, StatusCode};
use common::{multipart, upload, user_with_token, TestApp, PNG};
use serde_json::{json, Value};

async fn personal_tokens_are_managed_from_a_session(app: TestApp) {
    common::register(&app, "pat@example.com", "Pat", "password123").await;
    let mut browser = app.client();
    let login =
        browser.call_fn("/fn/login", &[("email", "pat@example.com"), ("password", "password123"), ("next", "/")]).await;
    assert!(login.status.is_success() || login.status.is_redirection(), "{}", login.text());
    assert!(browser.cookie.is_some());

    let created = browser
        .api(
            Method::POST,
            "/api/v1/tokens",
            None,
            Some(json!({"name": "CI", "scopes": ["read"], "expires_in_days": 30})),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    let secret = body["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("qrt_"));
    assert_eq!(body["scopes"], json!(["read"]));
    assert!(body["expires_at"].is_string());
    browser
        .api(Method::POST, "/api/v1/tokens", None, Some(json!({"name": "", "scopes": ["admin"]})), &[])
        .await
        .problem(422, "VALIDATION_ERROR");

    // The read-only token reads but cannot write, and cannot manage tokens.
    let mut api = app.client();
    assert_eq!(api.api(Method::GET, "/api/v1/me", Some(&secret), None, &[]).await.status, StatusCode::OK);
    api.api(
        Method::POST,
        "/api/v1/posts",
        Some(&secret),
        Some(json!({"title": "t", "body": "b", "category": "tech"})),
        &[],
    )
    .await
    .problem(403, "FORBIDDEN");
    api.api(Method::GET, "/api/v1/tokens", Some(&secret), None, &[]).await.problem(403, "FORBIDDEN");

    // The list never shows secrets, and records use.
    let mut listed = Value::Null;
    for _ in 0..50 {
        listed = browser.api(Method::GET, "/api/v1/tokens", None, None, &[]).await.json();
        if listed["data"][0]["last_used_at"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert!(listed["data"][0].get("token").is_none());
    assert!(listed["data"][0]["last_used_at"].is_string(), "{listed}");

    let id = body["id"].as_i64().unwrap();
    assert_eq!(
        browser.api(Method::DELETE, &format!("/api/v1/tokens/{id}"), None, None, &[]).await.status,
        StatusCode::NO_CONTENT
    );
    browser.api(Method::DELETE, &format!("/api/v1/tokens/{id}"), None, None, &[]).await.problem(404, "NOT_FOUND");
    api.api(Method::GET, "/api/v1/me", Some(&secret), None, &[]).await.problem(401, "UNAUTHORIZED");
}

async fn uploads_are_judged_by_content_and_served_immutable(app: TestApp) {
    let (_, token) = user_with_token(&app, "photo@example.com").await;
    let (ct, body) = multipart("file", "dot.png", "image/png", PNG);
    let res = upload(&app, &token, ct, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let up = res.json();
    assert_eq!(up["content_type"], "image/png");
    assert_eq!(up["size"], PNG.len());
    let url = up["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/uploads/") && url.ends_with(".png"));

    let served = app.client().get(&url).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("content-type"), Some("image/png"));
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(served.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(served.body, PNG);

    // The same bytes again: the same content-addressed file.
    let (ct, body) = multipart("file", "again.png", "image/png", PNG);
    assert_eq!(upload(&app, &token, ct, body).await.json()["url"], url.as_str());

    // Text that claims to be a PNG is refused, and nothing is left behind.
    let (ct, body) = multipart("file", "evil.png", "image/png", b"<script>alert('I am not a picture')</script>");
    upload(&app, &token, ct, body).await.problem(415, "UNSUPPORTED_MEDIA_TYPE");
    let (ct, body) = multipart("other", "dot.png", "image/png", PNG);
    upload(&app, &token, ct, body).await.problem(422, "VALIDATION_ERROR");
    let mut big = PNG.to_vec();
    big.resize(10 * 1024 * 1024 + 10, 0);
    let (ct, body) = multipart("file", "big.png", "image/png", &big);
    upload(&app, &token, ct, body).await.problem(413, "PAYLOAD_TOO_LARGE");
    let leftovers: Vec<_> = std::fs::read_dir(&app.state.config.upload_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".upload-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files are removed");

    app.client().get("/uploads/../../etc/passwd").await;
    let traversal = app.client().get("/uploads/..%2F..%2Fquire.db").await;
    assert_eq!(traversal.status, StatusCode::NOT_FOUND);
    app.client()
        .api(Method::POST, "/api/v1/uploads", Some(&token), Some(json!({})), &[])
        .await
        .problem(415, "UNSUPPORTED_MEDIA_TYPE");
}

on_both_databases!(personal_tokens_are_managed_from_a_session, uploads_are_judged_by_content_and_served_immutable,);
