//! What a careful reviewer checks, on SQLite and PostgreSQL: read-only tokens start nothing,
//! reads change nothing, exports are bounded, likes do not flood, concurrent publishes keep
//! the plan's limit and If-Match, deleted accounts leave no files, one validator per
//! resource, no secret kept in clear by idempotency, password changes end other sessions,
//! and comments and likes are audited.

use crate::common;

use std::collections::BTreeMap;

use axum::{
    body::Body,
    http::{Method, StatusCode},
};
use common::{browser, multipart, new_post, upload, user_with_token, RequestSpec, TestApp, PNG};
use serde_json::{json, Value};

const TABLES: [&str; 12] = [
    "users",
    "posts",
    "comments",
    "likes",
    "tags",
    "post_tags",
    "api_tokens",
    "uploads",
    "notifications",
    "audit_log",
    "reports",
    "jobs",
];

/// Row counts of every table, and the versions of posts and users (changes show there).
async fn snapshot(app: &TestApp) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for t in TABLES {
        out.insert(t.to_string(), app.count(&format!("SELECT COUNT(*) FROM {t}")).await);
    }
    for t in ["posts", "users"] {
        let sum = app.count(&format!("SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM {t}")).await;
        out.insert(format!("{t}.version"), sum);
    }
    out
}

/// A read-write token for a new account, and a read-only token of the same account.
async fn read_only_token(app: &TestApp, email: &str) -> (Value, String, String) {
    // The REST login token is read-write; personal tokens are made from a session.
    let (user, write) = user_with_token(app, email).await;
    let mut b = app.client();
    let res = b.call_fn("/fn/login", &[("email", email), ("password", "password123")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    let res = b.api(Method::POST, "/api/v1/tokens", None, Some(json!({"name": "ro", "scopes": ["read"]})), &[]).await;
    assert_eq!(res.status, 201, "{}", res.text());
    (user, write, res.json()["token"].as_str().unwrap().to_string())
}

/// Fills `{id}` with a resource of the right kind for the path.
fn concrete(path: &str, ids: &BTreeMap<&str, i64>) -> String {
    let id = if path.contains("/comments/") {
        ids["comment"]
    } else if path.contains("/tokens/") {
        ids["token"]
    } else if path.contains("/users/") {
        ids["user"]
    } else {
        ids["post"]
    };
    path.replace("{id}", &id.to_string())
}

async fn read_only_tokens_start_nothing(app: TestApp) {
    let (user, write, read) = read_only_token(&app, "ro@example.com").await;
    let post = new_post(&app, &write, "Mine", &[], true).await;
    let c = app
        .client()
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/comments", post["id"]),
            Some(&write),
            Some(json!({"body": "hi"})),
            &[],
        )
        .await
        .json();
    let ids: BTreeMap<&str, i64> = [
        ("post", post["id"].as_i64().unwrap()),
        ("comment", c["id"].as_i64().unwrap()),
        ("user", user["id"].as_i64().unwrap()),
        ("token", 1),
    ]
    .into();
    let doc = app.client().get("/api/v1/openapi.json").await.json();
    let before = snapshot(&app).await;
    let mut walked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let public = op.get("security").is_none();
            if method == "GET" || public || path.starts_with("/api/webhooks") {
                continue;
            }
            walked += 1;
            let uri = concrete(path, &ids);
            let body = if path.ends_with("/batch") {
                json!({"operations": [{"method": "DELETE", "path": format!("/api/v1/posts/{}", ids["post"])}]})
            } else {
                json!({"title": "t", "body": "b", "category": "tech", "kind": "my_posts", "format": "csv", "name": "n",
                       "scopes": ["read", "write"]})
            };
            let res = app
                .client()
                .api(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    &uri,
                    Some(&read),
                    Some(body),
                    &[("if-match", "*")],
                )
                .await;
            if path.ends_with("/batch") {
                assert_eq!(res.status, 200, "{method} {uri}: {}", res.text());
                assert_eq!(res.json()["results"][0]["status"], 403, "{method} {uri} inside a batch");
            } else {
                assert_eq!(res.status, 403, "{method} {uri}: {}", res.text());
            }
        }
    }
    assert!(walked >= 20, "only {walked} write operations walked");
    assert_eq!(snapshot(&app).await, before, "a read-only token changed something");
}

async fn reads_change_nothing(app: TestApp) {
    let (_, token) = user_with_token(&app, "reader@example.com").await;
    let post = new_post(&app, &token, "Readable", &["a"], true).await;
    let mut cookie = browser(&app, "cookie@example.com").await;
    let doc = app.client().get("/api/v1/openapi.json").await.json();
    let before = snapshot(&app).await;
    let ids: BTreeMap<&str, i64> = [
        ("post", post["id"].as_i64().unwrap()),
        ("comment", 1),
        ("user", post["author_id"].as_i64().unwrap()),
        ("token", 1),
    ]
    .into();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() || path.ends_with("/events") {
            continue;
        }
        let uri = concrete(path, &ids);
        for res in [
            app.client().api(Method::GET, &uri, Some(&token), None, &[]).await,
            cookie.api(Method::GET, &uri, None, None, &[]).await,
            app.client().api(Method::GET, &uri, None, None, &[]).await,
        ] {
            assert!(res.status.as_u16() < 500, "GET {uri}: {}", res.status);
        }
    }
    // Pages and the GraphQL GET too.
    for page in [
        "/",
        "/posts/readable",
        "/dashboard",
        "/settings",
        "/notifications",
        "/reports",
        "/api/graphql?query=%7Bposts%7BhasMore%7D%7D",
    ] {
        assert!(cookie.get_page(page).await.status.as_u16() < 500, "{page}");
    }
    // Server functions run on POST only: a GET (a link, an image) of one that writes does nothing.
    for (path, query) in [
        ("/fn/logout", String::new()),
        ("/fn/add_comment", format!("?post_id={}&body=x", post["id"])),
        ("/fn/set_like", format!("?post_id={}&liked=true", post["id"])),
        ("/fn/delete_post", format!("?id={}", post["id"])),
    ] {
        let res = cookie.get_page(&format!("{path}{query}")).await;
        assert!(res.status.is_client_error(), "GET {path}: {}", res.status);
    }
    assert_eq!(cookie.get("/api/v1/me").await.status, 200, "still signed in");
    assert_eq!(snapshot(&app).await, before, "a GET changed something");
}

async fn exports_are_bounded_per_user_and_per_process(_: TestApp) {
    let app = TestApp::sqlite_with(&[("QUIRE_EXPORTS_MAX", "1")]).await;
    let (user, token) = user_with_token(&app, "exporter@example.com").await;
    let (_, other) = user_with_token(&app, "other@example.com").await;
    let body = json!({"kind": "my_posts", "format": "csv"});
    let held = app.state.exports.try_acquire(user["id"].as_i64().unwrap()).unwrap();
    let res = app.client().api(Method::POST, "/api/v1/reports", Some(&token), Some(body.clone()), &[]).await;
    res.problem(429, "RATE_LIMITED");
    let res = app.client().api(Method::POST, "/api/v1/reports", Some(&other), Some(body.clone()), &[]).await;
    res.problem(429, "RATE_LIMITED");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 0, "refused exports leave no record");
    drop(held);
    let res = app.client().api(Method::POST, "/api/v1/reports", Some(&other), Some(body), &[]).await;
    assert_eq!(res.status, 200, "{}", res.text());
}

async fn likes_do_not_flood_the_author(app: TestApp) {
    let (author, author_token) = user_with_token(&app, "liked@example.com").await;
    let (_, fan) = user_with_token(&app, "fan@example.com").await;
    let post = new_post(&app, &author_token, "Likeable", &[], true).await;
    let like = format!("/api/v1/posts/{}/like", post["id"]);
    for _ in 0..10 {
        assert_eq!(app.client().api(Method::PUT, &like, Some(&fan), None, &[]).await.status, 200);
        assert_eq!(app.client().api(Method::DELETE, &like, Some(&fan), None, &[]).await.status, 200);
    }
    let unread = format!(
        "SELECT COUNT(*) FROM notifications WHERE user_id = {} AND kind = 'post.liked' AND read_at IS NULL",
        author["id"]
    );
    assert_eq!(app.count(&unread).await, 1);
    // Once read, a new like notifies again (once).
    let res =
        app.client().api(Method::POST, "/api/v1/notifications/read", Some(&author_token), Some(json!({})), &[]).await;
    assert_eq!(res.status, 200);
    for _ in 0..3 {
        app.client().api(Method::PUT, &like, Some(&fan), None, &[]).await;
        app.client().api(Method::DELETE, &like, Some(&fan), None, &[]).await;
    }
    assert_eq!(app.count(&unread).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'post.liked'").await, 2);
    // Likes and unlikes are audited.
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'post.like'").await, 13);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'post.unlike'").await, 13);
    app.client()
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/comments", post["id"]),
            Some(&fan),
            Some(json!({"body": "x"})),
            &[],
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'comment.create'").await, 1);
}

async fn patch(app: &TestApp, token: &str, id: &Value, etag: &str, body: Value) -> common::TestResponse {
    app.client()
        .api(Method::PATCH, &format!("/api/v1/posts/{id}"), Some(token), Some(body), &[("if-match", etag)])
        .await
}

async fn concurrent_publishes_keep_the_limit_and_if_match(app: TestApp) {
    let (_, token) = user_with_token(&app, "racer@example.com").await;
    new_post(&app, &token, "P1", &[], true).await;
    new_post(&app, &token, "P2", &[], true).await;
    let mut drafts = Vec::new();
    for i in 0..4 {
        drafts.push(new_post(&app, &token, &format!("D{i}"), &[], false).await);
    }
    // Four drafts published at once by a free author with two published: one may win.
    let results = futures_util::future::join_all(
        drafts.iter().map(|d| patch(&app, &token, &d["id"], "\"1\"", json!({"published": true}))),
    )
    .await;
    let won = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(won, 1, "{:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
    for r in results.iter().filter(|r| r.status != 200) {
        r.problem(403, "FORBIDDEN");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM posts WHERE published = TRUE").await, 3);

    // The same If-Match twice at once: one wins, the other is stale.
    let still_draft = results.iter().position(|r| r.status != 200).unwrap();
    let d = &drafts[still_draft];
    let (a, b) = tokio::join!(
        patch(&app, &token, &d["id"], "\"1\"", json!({"title": "First"})),
        patch(&app, &token, &d["id"], "\"1\"", json!({"title": "Second", "published": false})),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let (a, b) = tokio::join!(
        patch(&app, &token, &d["id"], "\"2\"", json!({"published": false})),
        patch(&app, &token, &d["id"], "\"2\"", json!({"published": false})),
    );
    // Unchanged state is no write: both may answer 200 here, but never two versions.
    assert!(a.status == 200 && b.status == 200, "{} {}", a.status, b.status);
    assert_eq!(
        app.client().api(Method::GET, &format!("/api/v1/posts/{}", d["id"]), Some(&token), None, &[]).await.json()
            ["version"],
        2
    );
}

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

async fn one_resource_has_one_etag(app: TestApp) {
    let (user, token) = user_with_token(&app, "etag@example.com").await;
    let me = app.client().api(Method::GET, "/api/v1/me", Some(&token), None, &[]).await;
    let by_id = app.client().api(Method::GET, &format!("/api/v1/users/{}", user["id"]), Some(&token), None, &[]).await;
    assert_eq!(me.header("etag"), by_id.header("etag"));
    let etag = me.header("etag").unwrap().to_string();
    let res = app
        .client()
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", user["id"]),
            Some(&token),
            Some(json!({"name": "New"})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app.client().api(Method::GET, "/api/v1/me", Some(&token), None, &[("if-none-match", &etag)]).await;
    assert_eq!(res.status, 200, "the old ETag no longer matches");
}

/// Every text column and blob of the idempotency table, as one string.
async fn idempotency_rows(app: &TestApp) -> String {
    let sql = "SELECT scope, key_hash, fingerprint, sealed FROM idempotency_keys";
    let rows: Vec<(String, String, String, Option<Vec<u8>>)> = match app.db() {
        quire::db::Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
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

async fn stalled_uploads_are_408_and_slow_ones_finish(_: TestApp) {
    let app =
        TestApp::sqlite_with(&[("QUIRE_REQUEST_TIMEOUT_SECS", "1"), ("QUIRE_UPLOAD_IDLE_TIMEOUT_SECS", "1")]).await;
    let (_, token) = user_with_token(&app, "slow@example.com").await;
    let (ct, body) = multipart("file", "slow.png", "image/png", PNG);
    let slow = |pause: u64, body: Vec<u8>| {
        let parts: Vec<Vec<u8>> = body.chunks(body.len() / 4 + 1).map(<[u8]>::to_vec).collect();
        Body::from_stream(futures_util::stream::unfold(parts.into_iter(), move |mut it| async move {
            let next = it.next()?;
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            Some((Ok::<_, std::io::Error>(next), it))
        }))
    };
    // 4 pieces 600 ms apart: 2.4 s in all, longer than the 1 s request timeout, never idle for 1 s.
    let res = app
        .client()
        .request(RequestSpec {
            method: Method::POST,
            path: "/api/v1/uploads".into(),
            headers: vec![("authorization".into(), format!("Bearer {token}")), ("content-type".into(), ct.clone())],
            body: slow(600, body.clone()),
        })
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // A pause of 1.6 s between pieces: the upload stalled.
    let res = app
        .client()
        .request(RequestSpec {
            method: Method::POST,
            path: "/api/v1/uploads".into(),
            headers: vec![("authorization".into(), format!("Bearer {token}")), ("content-type".into(), ct)],
            body: slow(1600, body),
        })
        .await;
    res.problem(408, "REQUEST_TIMEOUT");
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
    read_only_tokens_start_nothing,
    reads_change_nothing,
    likes_do_not_flood_the_author,
    concurrent_publishes_keep_the_limit_and_if_match,
    a_deleted_account_leaves_no_files,
    one_resource_has_one_etag,
    idempotent_replays_keep_no_secret_in_clear,
    a_password_change_ends_the_other_sessions,
);

#[tokio::test]
async fn exports_are_bounded() {
    exports_are_bounded_per_user_and_per_process(TestApp::sqlite().await).await
}

#[tokio::test]
async fn uploads_have_an_idle_timeout_instead_of_a_total_one() {
    stalled_uploads_are_408_and_slow_ones_finish(TestApp::sqlite().await).await
}
