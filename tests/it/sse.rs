//! Server-Sent Events, read with a real SSE parser (eventsource-stream): `connected` first,
//! heartbeats, live notifications, `Last-Event-ID` replay, 401 without credentials, and
//! no subscription left behind by clients that go away.

use crate::common;

use std::{pin::Pin, time::Duration};

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use common::{user_with_token, TestApp};
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};
use tower::ServiceExt;

type Events = Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<axum::Error>>> + Send>>;

async fn open(app: &TestApp, path: &str, token: Option<&str>, last_id: Option<i64>) -> (StatusCode, Events) {
    open_on(&app.router, path, token, last_id).await
}

async fn open_on(router: &axum::Router, path: &str, token: Option<&str>, last_id: Option<i64>) -> (StatusCode, Events) {
    let mut req = Request::builder().method(Method::GET).uri(path).header("accept", "text/event-stream");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(id) = last_id {
        req = req.header("last-event-id", id.to_string());
    }
    let res = router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    (status, Box::pin(res.into_body().into_data_stream().eventsource()))
}

async fn next(events: &mut Events, within: Duration) -> Event {
    tokio::time::timeout(within, events.next())
        .await
        .expect("an event in time")
        .expect("the stream is open")
        .expect("a well-formed event")
}

async fn publish_post(app: &TestApp, token: &str, title: &str) -> i64 {
    common::new_post(app, token, title, &[], true).await["id"].as_i64().unwrap()
}

async fn comment(app: &TestApp, token: &str, post: i64, body: &str) {
    let res = app
        .client()
        .api(Method::POST, &format!("/api/v1/posts/{post}/comments"), Some(token), Some(json!({"body": body})), &[])
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

on_both_databases!(
    a_stream_says_connected_first_then_notifications_arrive_live,
    last_event_id_replays_what_was_missed,
    no_subscription_outlives_its_client,
    a_stream_ends_when_its_credential_goes,
);

/// Reads events until `name` arrives or the stream ends (`None`), for at most `within`.
async fn until(events: &mut Events, name: &str, within: Duration) -> Option<Event> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, events.next()).await.expect("the stream moves in time") {
            Some(Ok(ev)) if ev.event == name => return Some(ev),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("a malformed event: {e}"),
            None => return None,
        }
    }
}

async fn a_stream_ends_when_its_credential_goes(app: TestApp) {
    // The same database with one-second heartbeats: a second node of the app under test.
    let mut config = (*app.state.config).clone();
    config.sse_heartbeat = Duration::from_secs(1);
    let opts = leptos::config::LeptosOptions::builder().output_name("quire").build();
    let state = quire::startup::build_state(config, opts).await.unwrap();
    let router = quire::startup::router(state);

    // A revoked token.
    let mut b = common::browser(&app, "revoker@example.com").await;
    let created =
        b.api(Method::POST, "/api/v1/tokens", None, Some(json!({"name": "sse", "scopes": ["read"]})), &[]).await;
    let (secret, id) = (created.json()["token"].as_str().unwrap().to_string(), created.json()["id"].as_i64().unwrap());
    let (status, mut events) = open_on(&router, "/api/v1/events", Some(&secret), None).await;
    assert_eq!(status, 200);
    assert_eq!(next(&mut events, Duration::from_secs(1)).await.event, "connected");
    assert_eq!(b.api(Method::DELETE, &format!("/api/v1/tokens/{id}"), None, None, &[]).await.status, 204);
    assert!(until(&mut events, "revoked", Duration::from_millis(2500)).await.is_some(), "ended within a heartbeat");
    assert!(tokio::time::timeout(Duration::from_secs(1), events.next()).await.unwrap().is_none(), "and closed");

    // A signed-out session.
    let cookie = b.cookie.clone().unwrap();
    let req = Request::builder().uri("/api/v1/events").header("cookie", &cookie).body(Body::empty()).unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let mut events: Events = Box::pin(res.into_body().into_data_stream().eventsource());
    assert_eq!(next(&mut events, Duration::from_secs(1)).await.event, "connected");
    assert_eq!(b.call_fn("/fn/logout", &[]).await.status, 200);
    assert!(until(&mut events, "revoked", Duration::from_millis(2500)).await.is_some());

    // A deleted account.
    let (user, token) = user_with_token(&app, "leaving@example.com").await;
    let (_, mut events) = open_on(&router, "/api/v1/events", Some(&token), None).await;
    assert_eq!(next(&mut events, Duration::from_secs(1)).await.event, "connected");
    let res = app.client().api(Method::DELETE, &format!("/api/v1/users/{}", user["id"]), Some(&token), None, &[]).await;
    assert_eq!(res.status, 204);
    assert!(until(&mut events, "revoked", Duration::from_millis(2500)).await.is_some());

    // A live credential keeps its stream through heartbeats.
    let (_, token) = user_with_token(&app, "staying@example.com").await;
    let (_, mut events) = open_on(&router, "/api/v1/events", Some(&token), None).await;
    assert_eq!(next(&mut events, Duration::from_secs(1)).await.event, "connected");
    assert!(tokio::time::timeout(Duration::from_millis(2500), until(&mut events, "revoked", Duration::from_secs(3)))
        .await
        .is_err());
}

#[tokio::test]
async fn open_streams_are_capped_per_user_and_per_address() {
    let app = TestApp::sqlite_with(&[("QUIRE_SSE_MAX_PER_USER", "2"), ("QUIRE_SSE_MAX_PER_IP", "3")]).await;
    let (_, a) = user_with_token(&app, "a@example.com").await;
    let (_, b) = user_with_token(&app, "b@example.com").await;
    let (_, a1) = open(&app, "/api/v1/events", Some(&a), None).await;
    let (_, a2) = open(&app, "/api/v1/events", Some(&a), None).await;
    let res = app.client().api(Method::GET, "/api/v1/events", Some(&a), None, &[]).await;
    res.problem(429, "RATE_LIMITED");
    let (status, b1) = open(&app, "/api/v1/events", Some(&b), None).await;
    assert_eq!(status, 200);
    // Three from this address now: a fourth, even anonymous on a post, is refused.
    let (_, author) = user_with_token(&app, "c@example.com").await;
    let post = publish_post(&app, &author, "Capped").await;
    let res = app.client().api(Method::GET, &format!("/api/v1/posts/{post}/events"), None, None, &[]).await;
    res.problem(429, "RATE_LIMITED");
    drop((a1, a2, b1));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, _again) = open(&app, "/api/v1/events", Some(&a), None).await;
    assert_eq!(status, 200, "closed streams give their places back");
}

async fn a_stream_says_connected_first_then_notifications_arrive_live(app: TestApp) {
    let (author, author_token) = user_with_token(&app, "author@example.com").await;
    let (_, reader_token) = user_with_token(&app, "reader@example.com").await;
    let post = publish_post(&app, &author_token, "Live one").await;

    let (status, mut events) = open(&app, "/api/v1/events", Some(&author_token), None).await;
    assert_eq!(status, 200);
    let hello = next(&mut events, Duration::from_secs(1)).await;
    assert_eq!(hello.event, "connected");
    let data: Value = serde_json::from_str(&hello.data).unwrap();
    assert_eq!(data["user_id"], author["id"]);

    // A comment on the author's post arrives within a second, with an id.
    comment(&app, &reader_token, post, "Nice post!").await;
    let ev = next(&mut events, Duration::from_secs(1)).await;
    assert_eq!(ev.event, "comment.created");
    assert!(ev.id.parse::<i64>().unwrap() > 0);
    let data: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(data["data"]["post_id"], post);
    assert_eq!(data["data"]["excerpt"], "Nice post!");

    // A like, too; and the author's own comment raises nothing for the author.
    comment(&app, &author_token, post, "Thanks").await;
    let res =
        app.client().api(Method::PUT, &format!("/api/v1/posts/{post}/like"), Some(&reader_token), None, &[]).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let ev = next(&mut events, Duration::from_secs(1)).await;
    assert_eq!(ev.event, "post.liked");
}

#[tokio::test]
async fn heartbeats_keep_an_idle_stream_alive() {
    let app = TestApp::sqlite_with(&[("QUIRE_SSE_HEARTBEAT_SECS", "1")]).await;
    let (_, token) = user_with_token(&app, "idle@example.com").await;
    let req = Request::builder()
        .uri("/api/v1/events")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body().into_data_stream();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(2500);
    while !seen.contains("\n: heartbeat\n") {
        let chunk =
            tokio::time::timeout_at(deadline, body.next()).await.expect("a heartbeat within 2.5 s").unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.starts_with("event: connected") || seen.contains("event: connected\n"), "{seen}");
}

#[tokio::test]
async fn without_credentials_the_stream_is_refused() {
    let app = TestApp::sqlite().await;
    let res = app.client().api(Method::GET, "/api/v1/events", None, None, &[]).await;
    res.problem(401, "UNAUTHORIZED");
    let res = app.client().api(Method::GET, "/api/v1/events", Some("not-a-token"), None, &[]).await;
    res.problem(401, "UNAUTHORIZED");
}

async fn last_event_id_replays_what_was_missed(app: TestApp) {
    let (_, author_token) = user_with_token(&app, "writer@example.com").await;
    let (_, reader_token) = user_with_token(&app, "fan@example.com").await;
    let post = publish_post(&app, &author_token, "Replay").await;

    let (_, mut events) = open(&app, "/api/v1/events", Some(&author_token), None).await;
    next(&mut events, Duration::from_secs(1)).await;
    comment(&app, &reader_token, post, "first").await;
    let first = next(&mut events, Duration::from_secs(1)).await;
    drop(events); // the client goes away…

    comment(&app, &reader_token, post, "second").await; // …and misses these two
    comment(&app, &reader_token, post, "third").await;

    let last: i64 = first.id.parse().unwrap();
    let (_, mut events) = open(&app, "/api/v1/events", Some(&author_token), Some(last)).await;
    let hello = next(&mut events, Duration::from_secs(1)).await;
    assert_eq!(hello.event, "connected");
    let a = next(&mut events, Duration::from_secs(1)).await;
    let b = next(&mut events, Duration::from_secs(1)).await;
    let excerpt =
        |e: &Event| serde_json::from_str::<Value>(&e.data).unwrap()["data"]["excerpt"].as_str().unwrap().to_string();
    assert_eq!((excerpt(&a), excerpt(&b)), ("second".to_string(), "third".to_string()));
    assert!(a.id.parse::<i64>().unwrap() > last && b.id.parse::<i64>().unwrap() > a.id.parse::<i64>().unwrap());
    // Then live again, without repeating the replayed ones.
    comment(&app, &reader_token, post, "fourth").await;
    let c = next(&mut events, Duration::from_secs(1)).await;
    assert_eq!(excerpt(&c), "fourth");
}

async fn no_subscription_outlives_its_client(app: TestApp) {
    let (_, token) = user_with_token(&app, "many@example.com").await;
    let bus = app.bus().clone();
    let before = bus.subscriber_count();
    let mut open_streams = Vec::new();
    for _ in 0..200 {
        let (status, mut events) = open(&app, "/api/v1/events", Some(&token), None).await;
        assert_eq!(status, 200);
        next(&mut events, Duration::from_secs(1)).await;
        open_streams.push(events);
    }
    assert_eq!(bus.subscriber_count(), before + 200);
    drop(open_streams);
    for _ in 0..100 {
        if bus.subscriber_count() == before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(bus.subscriber_count(), before, "every subscription was released");
}

/// The same over real TCP connections: a client that hangs up frees its subscription (the
/// server notices at its next write at the latest, which the heartbeat guarantees).
#[tokio::test]
async fn a_closed_connection_frees_its_subscription() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::sqlite_with(&[("QUIRE_SSE_HEARTBEAT_SECS", "1")]).await;
    let (_, token) = user_with_token(&app, "tcp@example.com").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app.router.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    let bus = app.bus().clone();
    let mut conns = Vec::new();
    for _ in 0..50 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&got).contains("event: connected") {
            let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await.unwrap().unwrap();
            assert!(n > 0, "connection closed early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        conns.push(s);
    }
    assert_eq!(bus.subscriber_count(), 50);
    drop(conns);
    for _ in 0..600 {
        if bus.subscriber_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(bus.subscriber_count(), 0, "hung-up clients hold nothing");
}

/// Two nodes on one PostgreSQL database: a comment written through one reaches an event
/// stream held by the other (LISTEN/NOTIFY), once.
#[tokio::test]
async fn events_reach_subscribers_on_another_node() {
    let app = TestApp::postgres().await;
    let (node2, state2) = app.second_node().await;
    let (_, author_token) = user_with_token(&app, "far@example.com").await;
    let (_, reader_token) = user_with_token(&app, "near@example.com").await;
    let post = publish_post(&app, &author_token, "Across nodes").await;

    let (status, mut events) = open_on(&node2, "/api/v1/events", Some(&author_token), None).await;
    assert_eq!(status, 200);
    assert_eq!(next(&mut events, Duration::from_secs(1)).await.event, "connected");
    assert_eq!(state2.bus.subscriber_count(), 1);
    assert_eq!(app.bus().subscriber_count(), 0, "the subscriber is on the second node");

    comment(&app, &reader_token, post, "from node one").await;
    // The post's own `post.published` may still be on its way from node one: skip it.
    let ev = loop {
        let ev = next(&mut events, Duration::from_secs(2)).await;
        if ev.event != "post.published" {
            break ev;
        }
    };
    assert_eq!(ev.event, "comment.created");
    let data: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(data["data"]["excerpt"], "from node one");
    // Delivered once: no second copy follows. (The post's `post.published` is announced from
    // another pooled connection and may, on a loaded machine, arrive after the comment.)
    while let Ok(Some(Ok(late))) = tokio::time::timeout(Duration::from_millis(300), events.next()).await {
        assert_eq!(late.event, "post.published", "only the earlier event may still arrive: {late:?}");
    }
}
