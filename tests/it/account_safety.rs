//! Accounts and their secrets stay safe, on SQLite and PostgreSQL: a deleted account leaves no
//! files, a password change ends the account's other sessions, the last administrator cannot
//! be demoted, and idempotent replays keep no secret in clear.

use crate::common;

use axum::http::{Method, StatusCode};
use common::{browser, multipart, upload, user_with_token, TestApp, PNG};
use serde_json::json;

async fn a_deleted_account_leaves_no_files(app: TestApp) {
    let (user, token) = user_with_token(&app, "leaver@example.com").await;
    let (_, other) = user_with_token(&app, "stayer@example.com").await;
    let mut own = PNG.to_vec();
    own.extend_from_slice(b"only mine");
    let (ct, body) = multipart("file", "mine.png", "image/png", &own);
    let mine = upload(&app, &token, ct, body).await.json()["url"].as_str().unwrap().to_string();
    let (ct, body) = multipart("file", "shared.png", "image/png", PNG);
    let shared = upload(&app, &token, ct, body).await.json()["url"].as_str().unwrap().to_string();
    let (ct, body) = multipart("file", "shared.png", "image/png", PNG);
    assert_eq!(upload(&app, &other, ct, body).await.json()["url"], shared.as_str());
    // A report export, to the end.
    let res = app
        .client()
        .api(Method::POST, "/api/v1/reports", Some(&token), Some(json!({"kind": "my_posts", "format": "json"})), &[])
        .await;
    assert!(res.text().contains("complete"), "{}", res.text());
    let reports = std::fs::read_dir(&app.state.config.report_dir).unwrap().count();
    assert_eq!(reports, 1);

    let res = app.client().api(Method::DELETE, &format!("/api/v1/users/{}", user["id"]), Some(&token), None, &[]).await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(app.client().get(&mine).await.status, 404, "its own upload is gone");
    assert_eq!(app.client().get(&shared).await.status, 200, "a file another account uploaded too stays");
    assert_eq!(std::fs::read_dir(&app.state.config.report_dir).unwrap().count(), 0, "its exports are gone");
}

async fn a_password_change_ends_the_other_sessions(app: TestApp) {
    let mut here = browser(&app, "owner@example.com").await;
    let mut there = app.client();
    let res = there.call_fn("/fn/login", &[("email", "owner@example.com"), ("password", "password123")]).await;
    assert!(res.status.is_success());
    assert_eq!(there.get("/api/v1/me").await.status, 200);

    let wrong = here
        .call_fn(
            "/fn/change_password",
            &[
                ("current_password", "nope-nope"),
                ("new_password", "new-secret-1"),
                ("confirm_password", "new-secret-1"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.text());
    assert_eq!(wrong.json()["errors"][0]["field"], "current_password");
    let before = here.cookie.clone();
    let ok = here
        .call_fn(
            "/fn/change_password",
            &[
                ("current_password", "password123"),
                ("new_password", "new-secret-1"),
                ("confirm_password", "new-secret-1"),
            ],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_ne!(here.cookie, before, "this session got a new id");
    assert_eq!(here.get("/api/v1/me").await.status, 200, "this session stays signed in");
    assert_eq!(there.get("/api/v1/me").await.status, 401, "the other session is over");
    assert_eq!(there.get_page("/settings").await.status, StatusCode::FOUND);
    let mut old = app.client();
    assert_eq!(
        old.post_json("/api/v1/auth/token", json!({"email": "owner@example.com", "password": "password123"}))
            .await
            .status,
        401
    );
    assert_eq!(
        old.post_json("/api/v1/auth/token", json!({"email": "owner@example.com", "password": "new-secret-1"}))
            .await
            .status,
        201
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.password_change'").await, 1);
    // Without JavaScript: the form posts and comes back.
    let res = here
        .submit_form(
            "/fn/change_password",
            "/settings",
            &[
                ("current_password", "new-secret-1"),
                ("new_password", "new-secret-2"),
                ("confirm_password", "new-secret-2"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert!(here.get_page("/settings").await.text().contains("Change password"));
}

async fn the_last_administrator_stays(app: TestApp) {
    let (admin, token) = common::admin_with_token(&app, "root@example.com").await;
    let me = format!("/api/v1/users/{}", admin["id"]);
    let res = app.client().api(Method::PATCH, &me, Some(&token), Some(json!({"role": "user"})), &[]).await;
    res.problem(409, "CONFLICT");
    app.client().api(Method::DELETE, &me, Some(&token), None, &[]).await.problem(409, "CONFLICT");
    // With a second administrator, either may go.
    let (_, second) = common::admin_with_token(&app, "deputy@example.com").await;
    let res = app.client().api(Method::PATCH, &me, Some(&second), Some(json!({"role": "user"})), &[]).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["role"], "user");
}

on_both_databases!(
    the_last_administrator_stays,
    a_deleted_account_leaves_no_files,
    a_password_change_ends_the_other_sessions,
);

/// Every text column and blob of the idempotency table, as one string.
async fn idempotency_rows(app: &TestApp) -> String {
    let sql = "SELECT scope, key_hash, fingerprint, sealed FROM idempotency_keys";
    let rows: Vec<(String, String, String, Option<Vec<u8>>)> = match app.db() {
        quire::db::Db::Sqlite(p, ..) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        quire::db::Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
    };
    rows.into_iter()
        .map(|(a, b, c, d)| format!("{a}|{b}|{c}|{}", String::from_utf8_lossy(&d.unwrap_or_default())))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn idempotent_replays_keep_no_secret_in_clear(app: TestApp) {
    common::register(&app, "secret@example.com", "S", "password123").await;
    let key = [("idempotency-key", "login-attempt-7f3a")];
    let body = json!({"email": "secret@example.com", "password": "password123"});
    let first = app.client().api(Method::POST, "/api/v1/auth/token", None, Some(body.clone()), &key).await;
    assert_eq!(first.status, 201);
    let token = first.json()["token"].as_str().unwrap().to_string();
    let replay = app.client().api(Method::POST, "/api/v1/auth/token", None, Some(body), &key).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json()["token"], token.as_str(), "the client that holds the key gets its token back");
    let mut b = browser(&app, "pat@example.com").await;
    let pat = b
        .api(
            Method::POST,
            "/api/v1/tokens",
            None,
            Some(json!({"name": "ci", "scopes": ["read"]})),
            &[("idempotency-key", "pat-1")],
        )
        .await;
    assert_eq!(pat.status, 201, "{}", pat.text());
    let pat = pat.json()["token"].as_str().unwrap().to_string();
    let stored = idempotency_rows(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 2);
    for secret in [token.as_str(), &token[4..20], pat.as_str(), "login-attempt-7f3a", "pat-1", "password123"] {
        assert!(!stored.contains(secret), "`{secret}` is stored in clear");
    }
}

on_both_databases!(idempotent_replays_keep_no_secret_in_clear,);
