//! What a careful reviewer checks, on SQLite and PostgreSQL: read-only tokens start nothing,
//! reads change nothing, exports are bounded, likes do not flood, concurrent publishes keep
//! the plan's limit and If-Match, one validator per resource, and uploads stall into a 408.
//! (Accounts and secrets: `account_safety`.)

use crate::common;

use std::collections::BTreeMap;

use axum::{body::Body, http::Method};
use common::{browser, multipart, new_post, user_with_token, RequestSpec, TestApp, PNG};
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

on_both_databases!(
    read_only_tokens_start_nothing,
    reads_change_nothing,
    likes_do_not_flood_the_author,
    concurrent_publishes_keep_the_limit_and_if_match,
    one_resource_has_one_etag,
);

#[tokio::test]
async fn exports_are_bounded() {
    exports_are_bounded_per_user_and_per_process(TestApp::sqlite().await).await
}

#[tokio::test]
async fn uploads_have_an_idle_timeout_instead_of_a_total_one() {
    stalled_uploads_are_408_and_slow_ones_finish(TestApp::sqlite().await).await
}
