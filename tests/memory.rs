//! Memory, measured by a counting allocator around the system one (this file is its own
//! test binary): a 100,000-row report export completes with the right row count while the
//! heap stays flat, and an idle SSE connection costs a few kilobytes, all of it returned when
//! the client goes away. Also the export rules (formats, access, retention).

#[path = "it/common/mod.rs"]
mod common;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicIsize, Ordering},
    time::Duration,
};

use axum::{
    body::Body,
    http::{Method, Request},
};
use common::{admin_with_token, user_with_token, TestApp};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const ROWS: i64 = 100_000;

/// The tests here measure the whole process's heap: one at a time.
async fn alone() -> tokio::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    ONE.get_or_init(|| tokio::sync::Mutex::new(())).lock().await
}

/// Inserts `ROWS` posts for `author` in one statement (the FTS triggers run as usual).
async fn many_posts(app: &TestApp, author: i64) {
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) \
         INSERT INTO posts (author_id, title, slug, body, category, published, created_at, updated_at, version) \
         SELECT {author}, 'Export row number ' || i, 'export-row-' || i, 'Body of row ' || i, 'tech', false, $1, $1, 1 FROM n"
    );
    let t = chrono::Utc::now() - chrono::Duration::hours(1);
    match app.db() {
        quire::db::Db::Sqlite(p, ..) => {
            assert_eq!(sqlx::query(&sql).bind(t).execute(p).await.unwrap().rows_affected(), ROWS as u64)
        }
        quire::db::Db::Postgres(p) => {
            assert_eq!(sqlx::query(&sql).bind(t).execute(p).await.unwrap().rows_affected(), ROWS as u64)
        }
    }
}

async fn export(app: &TestApp, token: &str, body: Value) -> (u16, Vec<(String, Value)>) {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/reports")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    if status != 200 {
        let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        return (status, vec![("problem".into(), serde_json::from_slice(&bytes).unwrap())]);
    }
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut events = res.into_body().into_data_stream().eventsource();
    let mut out = Vec::new();
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(120), events.next()).await.expect("progress in time")
    {
        let ev = ev.unwrap();
        out.push((ev.event, serde_json::from_str(&ev.data).unwrap()));
    }
    (status, out)
}

/// Downloads a report, counting lines chunk by chunk (never holding the file).
async fn download(app: &TestApp, token: &str, url: &str) -> (String, String, usize, u64) {
    let req =
        Request::builder().uri(url).header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    let cd = res.headers()["content-disposition"].to_str().unwrap().to_string();
    let mut lines = 0;
    let mut bytes = 0u64;
    let mut body = res.into_body().into_data_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    (ct, cd, lines, bytes)
}

#[tokio::test]
async fn a_hundred_thousand_rows_export_in_flat_memory() {
    let _alone = alone().await;
    let app = TestApp::sqlite().await;
    let (user, token) = user_with_token(&app, "exporter@example.com").await;
    many_posts(&app, user["id"].as_i64().unwrap()).await;

    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let (status, events) = export(&app, &token, json!({"kind": "my_posts", "format": "csv"})).await;
    let peak_growth = PEAK.load(Ordering::Relaxed) - baseline;
    println!("the heap peaked {peak_growth} bytes above its baseline during the export");
    assert_eq!(status, 200);

    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert_eq!(kinds.last(), Some(&"complete"));
    assert!(kinds.iter().filter(|k| **k == "processing").count() >= 10, "progress is reported along the way");
    let progress: Vec<u64> = events.iter().map(|(_, v)| v["progress"].as_u64().unwrap()).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress only grows: {progress:?}");
    let done = &events.last().unwrap().1;
    assert_eq!(done["progress"], 100);
    assert_eq!(done["rows"], ROWS);
    assert_eq!(done["report"]["row_count"], ROWS);
    let url = done["download_url"].as_str().unwrap().to_string();

    let (ct, cd, lines, bytes) = download(&app, &token, &url).await;
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert!(cd.starts_with("attachment; filename=\"quire-my-posts-") && cd.ends_with(".csv\""), "{cd}");
    assert_eq!(lines as i64, ROWS + 1, "a header line and one line per post");
    // Flat: the export wrote megabytes while the heap grew by far less than the file.
    assert!(bytes > 6_000_000, "the file is {bytes} bytes");
    assert!(peak_growth < 4 * 1024 * 1024, "heap grew by {peak_growth} bytes while writing a {bytes}-byte export");

    // The owner is told it is ready.
    let n = app.client().api(Method::GET, "/api/v1/notifications", Some(&token), None, &[]).await.json();
    assert_eq!(n["items"][0]["kind"], "report.ready");
}

#[tokio::test]
async fn json_exports_and_the_rules_around_them() {
    let _alone = alone().await;
    let app = TestApp::sqlite().await;
    let (_, token) = user_with_token(&app, "small@example.com").await;
    let res = app
        .client()
        .api(
            Method::POST,
            "/api/v1/posts",
            Some(&token),
            Some(json!({"title": "=SUM(A1)", "body": "b", "category": "tech"})),
            &[],
        )
        .await;
    assert_eq!(res.status, 201);

    let (status, events) =
        export(&app, &token, json!({"kind": "my_posts", "format": "json", "from": "2020-01-01"})).await;
    assert_eq!(status, 200);
    let done = &events.last().unwrap().1;
    assert_eq!(done["status"], "complete");
    let url = done["download_url"].as_str().unwrap();
    let res = app.client().api(Method::GET, url, Some(&token), None, &[]).await;
    assert_eq!(res.header("content-type"), Some("application/json"));
    let rows = res.json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["title"], "=SUM(A1)");

    // CSV neutralises formulas.
    let (_, events) = export(&app, &token, json!({"kind": "my_posts", "format": "csv"})).await;
    let url = events.last().unwrap().1["download_url"].as_str().unwrap().to_string();
    let csv = app.client().api(Method::GET, &url, Some(&token), None, &[]).await.text();
    assert!(csv.contains(",'=SUM(A1),"), "{csv}");

    // Someone else cannot download it.
    let (_, other) = user_with_token(&app, "other@example.com").await;
    app.client().api(Method::GET, &url, Some(&other), None, &[]).await.problem(404, "NOT_FOUND");
    // Site statistics are for administrators; bad input is a 422 naming the fields.
    let (status, p) = export(&app, &token, json!({"kind": "site_stats", "format": "csv"})).await;
    assert_eq!((status, p[0].1["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, p) = export(&app, &token, json!({"kind": "everything", "format": "xml", "to": "soon"})).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = p[0].1["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["kind", "format", "to"]);

    // Exports are kept a week: then the file and the record go.
    let id = url.split('/').nth(4).unwrap().to_string();
    let old = chrono::Utc::now() - chrono::Duration::days(8);
    match app.db() {
        quire::db::Db::Sqlite(p, ..) => sqlx::query("UPDATE reports SET created_at = $1 WHERE id = $2")
            .bind(old)
            .bind(&id)
            .execute(p)
            .await
            .unwrap(),
        quire::db::Db::Postgres(_) => unreachable!(),
    };
    let dir = app.state.config.report_dir.clone();
    assert!(dir.join(format!("{id}.csv")).exists());
    assert_eq!(quire::services::reports::purge(app.db(), &dir).await.unwrap(), 1);
    assert!(!dir.join(format!("{id}.csv")).exists());
    app.client().api(Method::GET, &url, Some(&token), None, &[]).await.problem(404, "NOT_FOUND");

    let (_, admin) = admin_with_token(&app, "root@example.com").await;
    let (status, events) = export(&app, &admin, json!({"kind": "site_stats", "format": "csv"})).await;
    assert_eq!(status, 200);
    let done = &events.last().unwrap().1;
    assert_eq!(done["status"], "complete");
    let csv =
        app.client().api(Method::GET, done["download_url"].as_str().unwrap(), Some(&admin), None, &[]).await.text();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(csv.starts_with("day,posts,comments,likes,users\n"), "{csv}");
    assert!(csv.contains(&format!("{today},1,0,0,3")), "{csv}");
}

/// Heap bytes held per idle event-stream connection (server and this test's client side
/// together, so an over-estimate), and nothing left once the clients hang up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_event_stream_costs_a_few_kilobytes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _alone = alone().await;
    const CONNECTIONS: usize = 500;
    let app = TestApp::sqlite_with(&[("QUIRE_SSE_HEARTBEAT_SECS", "1")]).await;
    let (_, token) = user_with_token(&app, "idle-memory@example.com").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app.router.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    let request = format!("GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n");
    let connect = || async {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut buf = [0u8; 2048];
        let mut seen = 0;
        loop {
            let n = s.read(&mut buf[seen..]).await.unwrap();
            assert!(n > 0);
            seen += n;
            if buf[..seen].windows(16).any(|w| w == b"event: connected") {
                return s;
            }
        }
    };
    // Warm up (pools, statement caches, the token look-up), then measure.
    let warm: Vec<_> = futures_util::future::join_all((0..20).map(|_| connect())).await;
    drop(warm);
    let bus = app.bus().clone();
    while bus.subscriber_count() > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let baseline = LIVE.load(Ordering::Relaxed);
    let mut open = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        open.push(connect().await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let per_connection = (LIVE.load(Ordering::Relaxed) - baseline) / CONNECTIONS as isize;
    println!("an idle SSE connection holds {per_connection} heap bytes (server and test client together)");
    assert_eq!(bus.subscriber_count(), CONNECTIONS);
    assert!(per_connection < 48 * 1024, "{per_connection} bytes per idle connection");

    let hang_up = |open: Vec<tokio::net::TcpStream>| async {
        drop(open);
        for _ in 0..100 {
            if bus.subscriber_count() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(bus.subscriber_count(), 0);
        tokio::time::sleep(Duration::from_millis(200)).await;
        LIVE.load(Ordering::Relaxed) - baseline
    };
    let left = hang_up(open).await;
    println!("after the clients hung up: {left} bytes above the baseline");
    // What stays is capacity the runtime keeps for reuse (the I/O driver's slab pages, say),
    // not per connection: a second round of as many connections leaves no more behind.
    assert!(left < (CONNECTIONS as isize) * 1024, "{left} bytes still held after every client left");
    let mut again = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        again.push(connect().await);
    }
    let left_again = hang_up(again).await;
    println!("after a second round: {left_again} bytes above the baseline");
    assert!(left_again - left < 64 * 1024, "a second round left {} more bytes: a leak", left_again - left);
}
