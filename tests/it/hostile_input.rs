//! Input an attacker sends, on SQLite and PostgreSQL: every answer is a clear 4xx problem,
//! never a 5xx — bodies over their limit (refused before they are read), forms that cannot
//! be read, NUL characters in URLs, JSON and forms, crafted cursors, and the draft walk
//! after publish/unpublish cycles.

use crate::common;

use axum::{
    body::Body,
    http::{Method, StatusCode},
};
use common::{new_post, user_with_token, RequestSpec, TestApp};
use futures_util::stream;
use serde_json::{json, Value};

async fn raw(app: &TestApp, method: Method, path: &str, headers: &[(&str, &str)], body: Body) -> common::TestResponse {
    app.client()
        .request(RequestSpec {
            method,
            path: path.into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body,
        })
        .await
}

/// A body without a Content-Length (chunked), in pieces.
fn chunked(total: usize) -> Body {
    let piece = vec![b'a'; 64 * 1024];
    let n = total.div_ceil(piece.len());
    Body::from_stream(stream::iter((0..n).map(move |_| Ok::<_, std::io::Error>(piece.clone()))))
}

async fn over_size_bodies_are_413_before_they_are_read(app: TestApp) {
    let big = "x".repeat(2 * 1024 * 1024);
    let form = [("content-type", "application/x-www-form-urlencoded"), ("origin", "http://quire.test")];
    // The sign-in form: declared length over 1 MiB.
    let body = format!("email=a%40b.c&password={big}");
    let len = body.len().to_string();
    let declared = [form[0], form[1], ("content-length", len.as_str())];
    raw(&app, Method::POST, "/fn/login", &declared, Body::from(body)).await.problem(413, "PAYLOAD_TOO_LARGE");
    // The same without a declared length: cut off at the limit, still a 4xx.
    let res = raw(&app, Method::POST, "/fn/login", &form, chunked(2 * 1024 * 1024)).await;
    assert!(res.status.is_client_error(), "{} {}", res.status, res.text());
    // GraphQL and JSON.
    let json_h = [("content-type", "application/json")];
    let q = json!({ "query": format!("{{ posts {{ hasMore }} }} #{big}") }).to_string();
    raw(&app, Method::POST, "/api/graphql", &json_h, Body::from(q)).await.problem(413, "PAYLOAD_TOO_LARGE");
    let res = raw(&app, Method::POST, "/api/graphql", &json_h, chunked(3 * 1024 * 1024)).await;
    assert!(res.status.is_client_error(), "{}", res.status);
    let body = json!({ "email": "a@b.c", "password": big }).to_string();
    raw(&app, Method::POST, "/api/v1/auth/token", &json_h, Body::from(body)).await.problem(413, "PAYLOAD_TOO_LARGE");
    // Webhooks too.
    raw(&app, Method::POST, "/api/webhooks/stripe", &json_h, chunked(2 * 1024 * 1024)).await;
    let res = raw(&app, Method::POST, "/api/webhooks/stripe", &[("content-length", "5000000")], Body::empty()).await;
    res.problem(413, "PAYLOAD_TOO_LARGE");
    // An upload may be larger than 1 MiB (up to 10 MiB).
    let (_, token) = user_with_token(&app, "big@example.com").await;
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    png.resize(3 * 1024 * 1024, 7);
    let boundary = "XyZ";
    let mut multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    multipart.extend_from_slice(&png);
    multipart.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let auth = format!("Bearer {token}");
    let ct = format!("multipart/form-data; boundary={boundary}");
    let res = raw(
        &app,
        Method::POST,
        "/api/v1/uploads",
        &[("authorization", &auth), ("content-type", &ct)],
        Body::from(multipart),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
}

async fn an_unreadable_form_is_a_400_not_a_500(app: TestApp) {
    let form = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", "http://quire.test"),
        ("accept", "application/json"),
    ];
    // A missing argument, a wrong type, garbage.
    for body in ["email=a%40b.c", "post_id=abc&body=x", "%%%%", "\u{ff}\u{fe}"] {
        let path = if body.starts_with("post_id") { "/fn/add_comment" } else { "/fn/login" };
        let res = raw(&app, Method::POST, path, &form, Body::from(body.to_string())).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{body}: {}", res.text());
        assert_eq!(res.json()["code"], "BAD_REQUEST");
    }
    let bytes: Vec<u8> = vec![b'e', b'm', b'a', b'i', b'l', b'=', 0xff, 0xfe, b'&', b'p', b'=', 0xc3];
    let res = raw(&app, Method::POST, "/fn/login", &form, Body::from(bytes)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
}

async fn nul_characters_are_refused_everywhere(app: TestApp) {
    let (_, token) = user_with_token(&app, "nul@example.com").await;
    let mut c = app.client();
    for path in [
        "/api/v1/posts?tag=a%00b",
        "/api/v1/posts?q=x%00",
        "/api/v1/posts?cursor=%00",
        "/api/v1/users?search=%00",
        "/posts/a%00b",
        "/api/graphql?query=%7B%20posts(q%3A%22a%00%22)%20%7B%20hasMore%20%7D%20%7D",
    ] {
        let res = c.api(Method::GET, path, Some(&token), None, &[]).await;
        res.problem(400, "BAD_REQUEST");
    }
    let bad = json!({"title": "a\u{0}b", "body": "b", "category": "tech"});
    c.api(Method::POST, "/api/v1/posts", Some(&token), Some(bad), &[]).await.problem(400, "BAD_REQUEST");
    let gql = json!({"query": "mutation($b: String!) { createPost(input: {title: $b, body: \"b\", category: TECH}) { id } }", "variables": {"b": "x\u{0}"}});
    let res = c.api(Method::POST, "/api/graphql", Some(&token), Some(gql), &[]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text());
    // A text that merely mentions \u0000 is fine.
    let fine = json!({"title": "About \\u0000", "body": "b", "category": "tech"});
    let res = c.api(Method::POST, "/api/v1/posts", Some(&token), Some(fine), &[]).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    // Forms.
    let form = [("content-type", "application/x-www-form-urlencoded"), ("origin", "http://quire.test")];
    let res = raw(&app, Method::POST, "/fn/login", &form, Body::from("email=a%00%40b.c&password=x")).await;
    res.problem(400, "BAD_REQUEST");
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 1);
}

async fn crafted_cursors_are_400(app: TestApp) {
    use base64::Engine as _;
    let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let (_, token) = user_with_token(&app, "cursor@example.com").await;
    new_post(&app, &token, "One", &[], true).await;
    let post = new_post(&app, &token, "Two", &[], true).await;
    let mut c = app.client();
    for cursor in [
        enc("p.999999999999999999.1"),
        enc("p.-62135596800000001.1"),
        enc("p.9223372036854775807.1"),
        enc("p.1700000000000000.0"),
        enc("p.1700000000000000"),
        enc("d.1700000000000000.5"),
        "!!!".to_string(),
        "x".repeat(500),
    ] {
        let res = c.api(Method::GET, &format!("/api/v1/posts?cursor={cursor}"), None, None, &[]).await;
        res.problem(400, "BAD_REQUEST");
    }
    for cursor in [enc("c.0"), enc("c.-5"), enc("c.99999999999999999999"), "%%".to_string()] {
        let res = c
            .api(Method::GET, &format!("/api/v1/posts/{}/comments?cursor={cursor}", post["id"]), None, None, &[])
            .await;
        res.problem(400, "BAD_REQUEST");
    }
}

/// Walks `status=draft` with `limit=1` and returns the titles in order (panics on a loop).
async fn draft_walk(app: &TestApp, token: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/posts?status=draft&limit=1&cursor={c}"),
            None => "/api/v1/posts?status=draft&limit=1".to_string(),
        };
        let page = app.client().api(Method::GET, &path, Some(token), None, &[]).await.json();
        for p in page["data"].as_array().unwrap() {
            seen.push(p["title"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return seen,
        }
    }
    panic!("the draft walk did not end: {seen:?}");
}

async fn the_draft_walk_ends_after_publish_and_unpublish(app: TestApp) {
    let (_, token) = user_with_token(&app, "drafter@example.com").await;
    let mut ids = Vec::new();
    for t in ["A", "B", "C"] {
        ids.push(new_post(&app, &token, t, &[], false).await);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Publish and unpublish B: it keeps a published_at from after C was created.
    let b = &ids[1];
    let mut etag = format!("\"{}\"", b["version"]);
    for published in [true, false, true, false] {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let res = app
            .client()
            .api(
                Method::PATCH,
                &format!("/api/v1/posts/{}", b["id"]),
                Some(&token),
                Some(json!({"published": published})),
                &[("if-match", &etag)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        etag = res.header("etag").unwrap().to_string();
    }
    assert_eq!(draft_walk(&app, &token).await, ["C", "B", "A"]);
}

async fn ipv6_clients_share_one_budget_per_64(_: TestApp) {
    // See the unit test in middleware::client_ip; here through the router: addresses of one
    // /64 draw on one sign-in budget, another /64 has its own.
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let app = TestApp::sqlite_with(&[("QUIRE_RATE_LIMIT_AUTH", "3")]).await;
    let attempt = |peer: &'static str| {
        let app = &app;
        async move {
            let mut req = axum::http::Request::builder()
                .method(Method::POST)
                .uri("/api/v1/auth/token")
                .header("content-type", "application/json")
                .body(Body::from(json!({"email": "x@example.com", "password": "nope-nope"}).to_string()))
                .unwrap();
            req.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
            app.send(req).await.status
        }
    };
    for peer in ["[2001:db8:0:1::1]:1000", "[2001:db8:0:1::2]:1000", "[2001:db8:0:1:ffff::9]:1000"] {
        assert_eq!(attempt(peer).await, StatusCode::UNAUTHORIZED, "{peer}");
    }
    assert_eq!(attempt("[2001:db8:0:1:abcd::1]:1000").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(attempt("[2001:db8:0:2::1]:1000").await, StatusCode::UNAUTHORIZED, "another /64");
}

async fn huge_and_repeated_parameters_are_4xx(app: TestApp) {
    let mut c = app.client();
    let many_tags: String = (0..500).map(|i| format!("tag=t{i}&")).collect();
    c.api(Method::GET, &format!("/api/v1/posts?{many_tags}"), None, None, &[]).await.problem(400, "BAD_REQUEST");
    c.api(Method::GET, "/api/v1/posts?limit=1&limit=2", None, None, &[]).await.problem(400, "BAD_REQUEST");
    c.api(Method::GET, &format!("/api/v1/posts?q={}", "a".repeat(5000)), None, None, &[])
        .await
        .problem(400, "BAD_REQUEST");
    let res = c.api(Method::GET, "/api/v1/posts/1/comments?limit=101", None, None, &[]).await;
    assert!(res.status == 400 || res.status == 404, "{}", res.status);
    let res: Value = c.api(Method::GET, "/api/v1/posts?limit=abc", None, None, &[]).await.problem(400, "BAD_REQUEST");
    assert!(res["detail"].as_str().unwrap().contains("limit"), "{res}");
}

on_both_databases!(
    over_size_bodies_are_413_before_they_are_read,
    an_unreadable_form_is_a_400_not_a_500,
    nul_characters_are_refused_everywhere,
    crafted_cursors_are_400,
    the_draft_walk_ends_after_publish_and_unpublish,
    huge_and_repeated_parameters_are_4xx,
);

#[tokio::test]
async fn ipv6_clients_share_one_sign_in_budget_per_64() {
    ipv6_clients_share_one_budget_per_64(TestApp::sqlite().await).await
}
