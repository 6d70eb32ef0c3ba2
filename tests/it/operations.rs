//! Operations, on SQLite and PostgreSQL: readiness for load balancers, the metrics every
//! request feeds (by route template), and the live dashboard's numbers and stream
//! (administrators only).

use crate::common;

use std::{sync::atomic::Ordering, time::Duration};

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use common::{admin_with_token, browser, eventually, user_with_token, TestApp};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use tower::ServiceExt;

async fn readiness_follows_the_node_lifecycle(app: TestApp) {
    let ready = app.client().get("/api/v1/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    assert_eq!(ready.json()["status"], "ready");
    assert_eq!(ready.header("cache-control"), Some("no-store"));
    // Shutting down: the load balancer is told to stop sending traffic; liveness still holds.
    app.state.ready.store(false, Ordering::Release);
    let stopping = app.client().get("/api/v1/ready").await;
    assert_eq!(stopping.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(stopping.json()["status"], "stopping");
    assert_eq!(app.client().get("/api/v1/health").await.status, StatusCode::OK);
}

async fn requests_are_counted_by_route_template(app: TestApp) {
    let (_, token) = user_with_token(&app, "counted@example.com").await;
    let post = common::new_post(&app, &token, "Counted", &[], true).await;
    let path = format!("/api/v1/posts/{}", post["id"]);
    for _ in 0..3 {
        assert_eq!(app.client().get(&path).await.status, StatusCode::OK);
    }
    app.client().get("/no/such/page/at/all").await;
    // The recorder is the process's: other tests' requests are in it too (counts only grow).
    let text = quire::telemetry::prometheus().render();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total{")
                && l.contains("method=\"GET\"")
                && l.contains("route=\"/api/v1/posts/{id}\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("a series for the route template:\n{text}"));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 3.0, "{line}");
    assert!(!text.contains(&format!("route=\"{path}\"")), "raw paths are never labels");
    assert!(!text.contains("/no/such/page"), "unknown paths are not labels either");
    assert!(text.contains("http_request_duration_seconds_bucket{"), "latency is a histogram");
}

async fn the_dashboard_is_for_administrators_and_moves_with_traffic(app: TestApp) {
    let (_, admin) = admin_with_token(&app, "ops-admin@example.com").await;
    let (_, user) = user_with_token(&app, "ops-user@example.com").await;
    // Traffic, then the sampler's next second shows it.
    for _ in 0..5 {
        app.client().get("/api/v1/health").await;
    }
    eventually("a second with requests", || async {
        app.state.ops.snapshot().points.iter().any(|p| p.requests_per_second >= 5.0)
    })
    .await;

    // The page's data: administrators only.
    let mut reader = browser(&app, "ops-reader@example.com").await;
    let refused = reader.call_fn("/fn/ops_numbers", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());

    // The stream: 403 for others; an administrator gets a point a second.
    let open = |token: String| {
        let req = Request::builder()
            .method(Method::GET)
            .uri("/api/v1/admin/ops/events")
            .header("accept", "text/event-stream")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        app.router.clone().oneshot(req)
    };
    assert_eq!(open(user).await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = open(admin).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut events = Box::pin(res.into_body().into_data_stream().eventsource());
    let ev = loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("a point within a second or two")
            .expect("the stream is open")
            .expect("a well-formed event");
        if ev.event == "ops" {
            break ev;
        }
    };
    let point: serde_json::Value = serde_json::from_str(&ev.data).unwrap();
    for field in [
        "at_ms",
        "requests_per_second",
        "p50_ms",
        "p99_ms",
        "error_rate",
        "sse_connections",
        "queue_depth",
        "signups_per_hour",
        "posts_per_hour",
    ] {
        assert!(point.get(field).is_some(), "`{field}` in {point}");
    }
    assert!(point["sse_connections"].as_i64().unwrap() >= 1, "this stream counts: {point}");
    eventually("the hour's sign-ups counted", || async {
        app.state.ops.snapshot().points.last().is_some_and(|p| p.signups_per_hour >= 3)
    })
    .await;
}

on_both_databases!(
    readiness_follows_the_node_lifecycle,
    requests_are_counted_by_route_template,
    the_dashboard_is_for_administrators_and_moves_with_traffic,
);
