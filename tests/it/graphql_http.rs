//! GraphQL over HTTP as an attacker tries it, on SQLite and PostgreSQL: mutations over GET
//! (a link or a Markdown image), "simple" cross-site bodies, cookies from another origin,
//! and answers too big to build. The specification's own audit suite runs in the test
//! command (end2end/graphql-audit.mjs).

use crate::common;

use axum::{body::Body, http::Method};
use common::{new_post, user_with_token, RequestSpec, TestApp};
use serde_json::{json, Value};

/// A browser session (cookie) for a new account.
async fn signed_in(app: &TestApp, email: &str) -> String {
    common::register(app, email, "Reader", "password123").await;
    let mut c = app.client();
    let res = c.call_fn("/fn/login", &[("email", email), ("password", "password123")]).await;
    assert!(res.status.is_success() || res.status.is_redirection(), "{}", res.text());
    c.cookie.expect("a session cookie")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn send(app: &TestApp, method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> common::TestResponse {
    app.client()
        .request(RequestSpec {
            method,
            path: path.into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: Body::from(body.to_string()),
        })
        .await
}

async fn mutations_never_run_over_get_or_from_other_sites(app: TestApp) {
    let (_, author) = user_with_token(&app, "author@example.com").await;
    let post = new_post(&app, &author, "Target", &[], true).await;
    let cookie = signed_in(&app, "victim@example.com").await;
    let mutation = format!(r#"mutation {{ createComment(postId: {}, body: "pwned") {{ id }} }}"#, post["id"]);

    // The Markdown-image attack: a GET with the reader's cookie.
    let res =
        send(&app, Method::GET, &format!("/api/graphql?query={}", encode(&mutation)), &[("cookie", &cookie)], "").await;
    assert_eq!(res.status, 405, "{}", res.text());
    assert_eq!(res.header("allow"), Some("POST"));
    // Named operations too.
    let named = format!("query A {{ me {{ id }} }} {}", mutation.replacen("mutation", "mutation B", 1));
    let res = send(
        &app,
        Method::GET,
        &format!("/api/graphql?query={}&operationName=B", encode(&named)),
        &[("cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(res.status, 405);

    // A "simple" cross-site POST (text/plain, or a form) with the cookie: 415 (and 403 for the Origin).
    let body = json!({ "query": mutation }).to_string();
    let res =
        send(&app, Method::POST, "/api/graphql", &[("cookie", &cookie), ("content-type", "text/plain")], &body).await;
    assert_eq!(res.status, 415, "{}", res.text());
    let form = format!("query={}", encode(&mutation));
    let res = send(
        &app,
        Method::POST,
        "/api/graphql",
        &[("cookie", &cookie), ("content-type", "application/x-www-form-urlencoded")],
        &form,
    )
    .await;
    assert_eq!(res.status, 415);
    let res = send(
        &app,
        Method::POST,
        "/api/graphql",
        &[("cookie", &cookie), ("content-type", "application/json"), ("origin", "http://evil.example")],
        &body,
    )
    .await;
    res.problem(403, "FORBIDDEN");
    assert_eq!(app.count("SELECT COUNT(*) FROM comments").await, 0, "no request above commented");

    // The same page's own script (same origin) may.
    let res = send(
        &app,
        Method::POST,
        "/api/graphql",
        &[("cookie", &cookie), ("content-type", "application/json"), ("origin", "http://quire.test")],
        &body,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["data"]["createComment"]["id"].is_i64(), "{}", res.text());
    // Other cookie-authenticated API writes from another site are refused as well.
    let res = send(
        &app,
        Method::PUT,
        &format!("/api/v1/posts/{}/like", post["id"]),
        &[("cookie", &cookie), ("origin", "http://evil.example")],
        "",
    )
    .await;
    res.problem(403, "FORBIDDEN");
    // Queries over GET still work.
    let res =
        send(&app, Method::GET, &format!("/api/graphql?query={}", encode("{ posts { hasMore } }")), &[], "").await;
    assert_eq!(res.status, 200, "{}", res.text());
}

async fn graphql_response_json_has_its_status_codes(app: TestApp) {
    let grj = [("content-type", "application/json"), ("accept", "application/graphql-response+json")];
    let json_h = [("content-type", "application/json"), ("accept", "application/json")];
    let ok = send(&app, Method::POST, "/api/graphql", &grj, r#"{"query":"{ __typename }"}"#).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("content-type"), Some("application/graphql-response+json; charset=utf-8"));
    assert_eq!(ok.json(), json!({"data": {"__typename": "Query"}}));
    // A document that cannot run: 400 without data (graphql-response+json), 200 with application/json.
    let bad = send(&app, Method::POST, "/api/graphql", &grj, r#"{"query":"{"}"#).await;
    assert_eq!(bad.status, 400);
    assert!(bad.json().get("data").is_none(), "{}", bad.text());
    let bad = send(&app, Method::POST, "/api/graphql", &json_h, r#"{"query":"{ nope }"}"#).await;
    assert_eq!(bad.status, 200);
    assert_eq!(bad.header("content-type"), Some("application/json; charset=utf-8"));
    assert!(bad.json().get("data").is_none());
    // Malformed requests: 400 either way.
    for body in [
        "{ not json",
        r#"{"query": 1}"#,
        r#"{"qeury":"{ __typename }"}"#,
        r#"{"query":"{ __typename }","variables":"x"}"#,
        "",
    ] {
        let res = send(&app, Method::POST, "/api/graphql", &json_h, body).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text());
    }
    // A field error keeps its data and a 200.
    let me = send(&app, Method::POST, "/api/graphql", &grj, r#"{"query":"{ __typename me { id } }"}"#).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["errors"][0]["extensions"]["code"], "UNAUTHORIZED");
}

async fn comments_are_paged_and_aliases_count_toward_complexity(app: TestApp) {
    let (_, token) = user_with_token(&app, "talker@example.com").await;
    let post = new_post(&app, &token, "Busy thread", &[], true).await;
    let id = post["id"].as_i64().unwrap();
    for i in 0..120 {
        let res = app
            .client()
            .api(
                Method::POST,
                &format!("/api/v1/posts/{id}/comments"),
                Some(&token),
                Some(json!({"body": format!("c{i}")})),
                &[],
            )
            .await;
        assert_eq!(res.status, 201);
    }
    // REST: 50 by default, at most 100, oldest first, then the rest.
    let mut c = app.client();
    let page = c.api(Method::GET, &format!("/api/v1/posts/{id}/comments"), None, None, &[]).await.json();
    assert_eq!(page["data"].as_array().unwrap().len(), 50);
    assert_eq!(page["data"][0]["body"], "c0");
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let page = c
        .api(Method::GET, &format!("/api/v1/posts/{id}/comments?limit=100&cursor={cursor}"), None, None, &[])
        .await
        .json();
    assert_eq!(page["data"].as_array().unwrap().len(), 70);
    assert_eq!(page["data"][0]["body"], "c50");
    assert!(page["next_cursor"].is_null());
    c.api(Method::GET, &format!("/api/v1/posts/{id}/comments?limit=101"), None, None, &[])
        .await
        .problem(400, "BAD_REQUEST");

    // GraphQL: pages too, and a page size counts toward complexity for every alias.
    let q = format!(r#"{{ comments(postId: {id}, first: 2) {{ items {{ body }} nextCursor hasMore }} }}"#);
    let res: Value = c.api(Method::POST, "/api/graphql", None, Some(json!({"query": q})), &[]).await.json();
    assert_eq!(res["data"]["comments"]["items"][1]["body"], "c1", "{res}");
    assert_eq!(res["data"]["comments"]["hasMore"], true);
    let aliases: String = (0..25).map(|i| format!("a{i}: comments(postId: {id}) {{ items {{ body }} }} ")).collect();
    let res: Value =
        c.api(Method::POST, "/api/graphql", None, Some(json!({"query": format!("{{ {aliases} }}")})), &[]).await.json();
    assert!(res["errors"][0]["message"].as_str().unwrap().to_lowercase().contains("complex"), "{res}");
    let bodies: String = (0..120).map(|i| format!("p{i}: post(id: {id}) {{ body }} ")).collect();
    let res: Value =
        c.api(Method::POST, "/api/graphql", None, Some(json!({"query": format!("{{ {bodies} }}")})), &[]).await.json();
    assert!(res["errors"][0]["message"].as_str().unwrap().to_lowercase().contains("complex"), "{res}");

    // The post page shows the newest 50 and links to older ones, which work without JavaScript.
    let html = app.client().get_page(&format!("/posts/{}", post["slug"].as_str().unwrap())).await.text();
    assert!(html.contains(">c119<") && !html.contains(">c69<"), "the newest 50");
    let older = html.split("data-testid=\"older-comments\"").next().unwrap();
    let href = older.rsplit("href=\"").next().unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let html = app.client().get_page(&href).await.text();
    assert!(html.contains(">c69<") && html.contains(">c20<") && !html.contains(">c70<"), "{href}");
}

on_both_databases!(
    mutations_never_run_over_get_or_from_other_sites,
    graphql_response_json_has_its_status_codes,
    comments_are_paged_and_aliases_count_toward_complexity,
);
