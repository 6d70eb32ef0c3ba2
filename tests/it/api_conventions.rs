//! The REST API's conventions through the real router, on SQLite and PostgreSQL:
//! idempotency keys, the server-side cache and its invalidation, Cache-Control, rate
//! limits and their headers, CORS preflights, versions and bad bodies. (Batches, GraphQL
//! and the OpenAPI document: `api_surfaces`.)

use crate::common;

use axum::{
    body::Body,
    http::{Method, StatusCode},
};
use common::{user_with_token, RequestSpec, TestApp};
use serde_json::{json, Value};

fn post_body(title: &str) -> Value {
    json!({"title": title, "body": "Body", "category": "tech", "published": true})
}

async fn count_posts(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM posts").await
}

async fn idempotency_keys_replay_refuse_and_wait(app: TestApp) {
    let (user, token) = user_with_token(&app, "idem@example.com").await;
    let mut c = app.client();
    let key = [("idempotency-key", "create-post-1")];
    let first = c.api(Method::POST, "/api/v1/posts", Some(&token), Some(post_body("Once only")), &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert!(first.header("idempotent-replayed").is_none());

    let replay = c.api(Method::POST, "/api/v1/posts", Some(&token), Some(post_body("Once only")), &key).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json(), first.json(), "the stored response, byte for byte");
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(count_posts(&app).await, 1, "the request ran once");

    let different = c.api(Method::POST, "/api/v1/posts", Some(&token), Some(post_body("Something else")), &key).await;
    different.problem(422, "IDEMPOTENCY_KEY_REUSED");

    // Keys belong to their caller: another user's identical key is a new request.
    let (_, other) = user_with_token(&app, "other@example.com").await;
    let theirs = c.api(Method::POST, "/api/v1/posts", Some(&other), Some(post_body("Once only")), &key).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert!(theirs.header("idempotent-replayed").is_none());

    // While the first request with a key still runs, a retry is told to wait.
    let scope = format!("user:{}", user["id"]);
    let slow = quire::services::idempotency::IdempotencyKey::derive(&scope, "slow-key");
    let claimed = quire::services::idempotency::begin(app.db(), &slow, "fingerprint").await.unwrap();
    assert_eq!(claimed, quire::services::idempotency::Begin::Proceed);
    let busy = c
        .api(Method::POST, "/api/v1/posts", Some(&token), Some(post_body("Busy")), &[("idempotency-key", "slow-key")])
        .await;
    busy.problem(409, "CONFLICT");

    // A failed attempt releases its key, so a corrected retry may use it.
    let bad = c
        .api(
            Method::POST,
            "/api/v1/posts",
            Some(&token),
            Some(json!({"title": "", "body": "b", "category": "tech"})),
            &[("idempotency-key", "fix-me")],
        )
        .await;
    bad.problem(422, "VALIDATION_ERROR");
    let fixed = c
        .api(
            Method::POST,
            "/api/v1/posts",
            Some(&token),
            Some(json!({"title": "Fixed", "body": "b", "category": "tech"})),
            &[("idempotency-key", "fix-me")],
        )
        .await;
    assert_eq!(fixed.status, StatusCode::CREATED, "{}", fixed.text());

    c.api(Method::POST, "/api/v1/posts", Some(&token), Some(post_body("x")), &[("idempotency-key", "")])
        .await
        .problem(400, "BAD_REQUEST");
}

async fn hot_public_reads_are_cached_until_a_write(app: TestApp) {
    let (_, token) = user_with_token(&app, "cache@example.com").await;
    let created =
        app.client().api(Method::POST, "/api/v1/posts", Some(&token), Some(post_body("Cached")), &[]).await.json();
    let mut anon = app.client();
    let first = anon.get("/api/v1/posts?limit=5").await;
    assert_eq!(first.header("x-cache"), Some("MISS"));
    assert_eq!(first.header("cache-control"), Some("public, s-maxage=60, stale-while-revalidate=300"));
    let etag = first.header("etag").expect("lists have an ETag").to_string();
    let second = anon.get("/api/v1/posts?limit=5").await;
    assert_eq!(second.header("x-cache"), Some("HIT"));
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("etag"), Some(etag.as_str()));
    let conditional = anon.api(Method::GET, "/api/v1/posts?limit=5", None, None, &[("if-none-match", &etag)]).await;
    assert_eq!(conditional.status, StatusCode::NOT_MODIFIED);

    // A new draft is seen by its author alone: the cache stays.
    let draft = json!({"title": "Secret draft", "body": "b", "category": "tech"});
    assert_eq!(app.client().api(Method::POST, "/api/v1/posts", Some(&token), Some(draft), &[]).await.status, 201);
    assert_eq!(anon.get("/api/v1/posts?limit=5").await.header("x-cache"), Some("HIT"));

    // A comment is a write that changes public content: the next read is fresh.
    let id = created["id"].as_i64().unwrap();
    let res = app
        .client()
        .api(Method::POST, &format!("/api/v1/posts/{id}/comments"), Some(&token), Some(json!({"body": "hi"})), &[])
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(anon.get("/api/v1/posts?limit=5").await.header("x-cache"), Some("MISS"));
    assert_eq!(anon.get("/api/v1/posts?limit=5").await.header("x-cache"), Some("HIT"));

    // An edit through the API, too; the fresh answer shows it.
    let res = app
        .client()
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{id}"),
            Some(&token),
            Some(json!({"title": "Renamed"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let fresh = anon.get("/api/v1/posts?limit=5").await;
    assert_eq!(fresh.header("x-cache"), Some("MISS"));
    assert_eq!(fresh.json()["data"][0]["title"], "Renamed");

    // Signed-in callers are never served from (or stored in) the shared cache.
    let mine = app.client().api(Method::GET, "/api/v1/posts?limit=5", Some(&token), None, &[]).await;
    assert_eq!(mine.header("cache-control"), Some("private, no-cache"));
    assert!(mine.header("x-cache").is_none());
}

async fn the_eleventh_auth_request_in_a_minute_is_429(app: TestApp) {
    let mut c = app.client();
    let creds = json!({"email": "nobody@example.com", "password": "wrong-password"});
    for i in 0..10 {
        let res = c.post_json("/api/v1/auth/token", creds.clone()).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert_eq!(res.header("x-ratelimit-limit"), Some("10"));
        assert_eq!(res.header("x-ratelimit-remaining"), Some((9 - i).to_string().as_str()));
        assert_eq!(res.header("ratelimit-policy"), Some("\"auth\";q=10;w=60"));
    }
    let limited = c.post_json("/api/v1/auth/token", creds.clone()).await;
    limited.problem(429, "RATE_LIMITED");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    assert!(limited.header("ratelimit").unwrap().starts_with("\"auth\";r=0;t="));
    let reset: u64 = limited.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset > chrono::Utc::now().timestamp() as u64);
    // Registration shares the strict budget; the sign-in form too.
    c.post_json("/api/v1/auth/register", json!({"email": "a@b.co", "name": "A", "password": "password123"}))
        .await
        .problem(429, "RATE_LIMITED");
    let form = c.call_fn("/fn/login", &[("email", "nobody@example.com"), ("password", "x")]).await;
    assert_eq!(form.status, StatusCode::TOO_MANY_REQUESTS, "{}", form.text());
    assert!(form.text().contains("Too many attempts"));
    // Other endpoints have their own (looser) budget.
    let health = c.get("/api/v1/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.header("ratelimit-policy"), Some("\"anonymous\";q=1000;w=60"));
}

async fn preflight_from_allowed_and_refused_origins(app: TestApp) {
    let preflight = |origin: &'static str| RequestSpec {
        method: Method::OPTIONS,
        path: "/api/v1/posts".into(),
        headers: vec![
            ("origin".into(), origin.into()),
            ("access-control-request-method".into(), "POST".into()),
            ("access-control-request-headers".into(), "content-type, authorization, idempotency-key".into()),
        ],
        body: Body::empty(),
    };
    let ok = app.client().request(preflight("https://app.example.com")).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text());
    assert_eq!(ok.header("access-control-allow-origin"), Some("https://app.example.com"));
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    assert!(ok.header("access-control-allow-methods").unwrap().contains("PATCH"));
    let allowed_headers = ok.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(allowed_headers.contains("idempotency-key") && allowed_headers.contains("authorization"));
    assert_eq!(ok.header("access-control-max-age"), Some("600"));

    let refused = app.client().request(preflight("https://evil.example.com")).await;
    refused.problem(403, "FORBIDDEN");
    assert!(refused.header("access-control-allow-origin").is_none());

    let simple = app
        .client()
        .request(RequestSpec {
            method: Method::GET,
            path: "/api/v1/posts".into(),
            headers: vec![("origin".into(), "https://app.example.com".into())],
            body: Body::empty(),
        })
        .await;
    assert_eq!(simple.header("access-control-allow-origin"), Some("https://app.example.com"));
    assert!(simple.header("access-control-expose-headers").unwrap().to_ascii_lowercase().contains("etag"));
}

async fn versions_coexist(app: TestApp) {
    let mut c = app.client();
    let latest = c.get("/api/posts").await;
    assert_eq!(latest.status, StatusCode::OK, "{}", latest.text());
    assert!(latest.json().get("items").is_some(), "unversioned = latest (v2)");
    assert_eq!(latest.header("api-version"), Some("2"));
    let v1 = c.api(Method::GET, "/api/posts", None, None, &[("accept-version", "1")]).await;
    assert!(v1.json().get("data").is_some());
    let v1_direct = c.get("/api/v1/posts").await;
    assert!(v1_direct.json().get("data").is_some(), "{}", v1_direct.text());
    assert!(c.get("/api/v2/posts").await.json().get("page_info").is_some());
    assert_eq!(c.get("/api/health").await.status, StatusCode::OK, "other resources exist in every version");
    c.api(Method::GET, "/api/posts", None, None, &[("accept-version", "7")]).await.problem(400, "BAD_REQUEST");
    c.get("/api/v7/posts").await.problem(400, "BAD_REQUEST");
    c.get("/api/v1/nothing-here").await.problem(404, "NOT_FOUND");
    c.get("/api/nothing-here").await.problem(404, "NOT_FOUND");
    let wrong = c.api(Method::DELETE, "/api/v1/tags", None, None, &[]).await;
    wrong.problem(405, "METHOD_NOT_ALLOWED");
    assert!(wrong.header("allow").unwrap().contains("GET"));
}

async fn bad_bodies_are_4xx_problems(app: TestApp) {
    let (_, token) = user_with_token(&app, "bodies@example.com").await;
    let mut c = app.client();
    let send = |ct: &str, body: Vec<u8>| RequestSpec {
        method: Method::POST,
        path: "/api/v1/posts".into(),
        headers: vec![("authorization".into(), format!("Bearer {token}")), ("content-type".into(), ct.into())],
        body: Body::from(body),
    };
    c.request(send("application/json", b"{\"title\": ".to_vec())).await.problem(400, "BAD_REQUEST");
    c.request(send("text/plain", b"{}".to_vec())).await.problem(415, "UNSUPPORTED_MEDIA_TYPE");
    let unknown = br#"{"title":"t","body":"b","category":"tech","author_id":1}"#.to_vec();
    c.request(send("application/json", unknown)).await.problem(400, "BAD_REQUEST");
    let huge = format!("{{\"title\":\"t\",\"body\":\"{}\",\"category\":\"tech\"}}", "x".repeat(1024 * 1024 + 1));
    c.request(send("application/json", huge.into_bytes())).await.problem(413, "PAYLOAD_TOO_LARGE");
    let wrong_type = br#"{"title":1,"body":"b","category":"tech"}"#.to_vec();
    c.request(send("application/json", wrong_type)).await.problem(400, "BAD_REQUEST");
}

on_both_databases!(
    idempotency_keys_replay_refuse_and_wait,
    hot_public_reads_are_cached_until_a_write,
    versions_coexist,
    bad_bodies_are_4xx_problems,
);

on_both_databases!(
    with &[("QUIRE_RATE_LIMIT_AUTH",
    "10",
), ("QUIRE_RATE_LIMIT_ANON", "1000")];
    the_eleventh_auth_request_in_a_minute_is_429,
);

on_both_databases!(
    with &[("QUIRE_CORS_ORIGINS",
    "https://app.example.com,
    https://admin.example.com",
)];
    preflight_from_allowed_and_refused_origins,
);
