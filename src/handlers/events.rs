//! Server-Sent Events. `GET /api/v1/events`: the caller's notifications, live, after an
//! `event: connected`; `Last-Event-ID` replays what a reconnecting client missed; a heartbeat
//! comment keeps proxies from closing an idle stream. `GET /api/v1/posts/{id}/events`: a
//! post's new comments, for anyone who may read the post.
//!
//! A stream owns one bus subscription and nothing else; when the client goes away the
//! server drops the body, and with it the subscription.

use std::{collections::VecDeque, convert::Infallible};

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{
        sse::{Event as SseEvent, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use futures_util::stream::{self, Stream};
use serde_json::json;

use crate::{
    db::Db,
    error::Result,
    handlers::extract::Id,
    middleware::auth::Caller,
    models::Notification,
    services::{
        events::{Event, Next, Subscription},
        notifications, posts,
    },
    state::AppState,
};

/// How long a browser waits before reconnecting (the `retry:` field).
const RETRY_MS: u64 = 2000;

/// An event-stream answer: heartbeats while idle, no caching, no proxy buffering.
pub(crate) fn sse_response<S>(state: &AppState, stream: S) -> Response
where
    S: Stream<Item = std::result::Result<SseEvent, Infallible>> + Send + 'static,
{
    let keep_alive = KeepAlive::new().interval(state.config.sse_heartbeat).text("heartbeat");
    let mut res = Sse::new(stream).keep_alive(keep_alive).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-transform"));
    // Proxies such as nginx must not buffer the stream.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

fn notification_event(n: &Notification) -> SseEvent {
    let data = json!({
        "id": n.id, "kind": n.kind, "data": serde_json::from_str::<serde_json::Value>(&n.data).unwrap_or_default(),
        "summary": n.summary(), "created_at": n.created_at,
    });
    SseEvent::default().id(n.id.to_string()).event(n.kind.as_str()).data(data.to_string())
}

struct UserStream {
    db: Db,
    user_id: i64,
    sub: Subscription,
    hello: Option<SseEvent>,
    backlog: VecDeque<Notification>,
    /// Ids already sent from the backlog (a live copy of one is skipped).
    replayed: std::collections::HashSet<i64>,
    last_sent: i64,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(("Last-Event-ID" = Option<String>, Header, description = "The last notification id the client saw: what came after is replayed first")),
    responses((status = 200, description = "text/event-stream: `connected`, then notifications (`comment.created`, `post.liked`, `post.published`, `subscription.updated`, `report.ready`, …) each with an `id:`, and heartbeat comments", content_type = "text/event-stream"),
              (status = 401, description = "No credentials", body = crate::handlers::openapi::Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn stream(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Response> {
    let user_id = caller.user.id;
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|id| *id >= 0);
    // Subscribe before reading the backlog, so nothing raised in between is missed.
    let sub = state.bus.subscribe(user_id);
    let backlog = match last_id {
        Some(after) => notifications::missed(&state.db, user_id, after).await?,
        None => Vec::new(),
    };
    let hello = SseEvent::default()
        .event("connected")
        .retry(std::time::Duration::from_millis(RETRY_MS))
        .data(json!({ "user_id": user_id, "replayed": backlog.len() }).to_string());
    let init = UserStream {
        db: state.db.clone(),
        user_id,
        sub,
        hello: Some(hello),
        replayed: backlog.iter().map(|n| n.id).collect(),
        last_sent: last_id.unwrap_or(0),
        backlog: backlog.into(),
    };
    let events = stream::unfold(init, |mut s| async move {
        if let Some(hello) = s.hello.take() {
            return Some((Ok(hello), s));
        }
        loop {
            if let Some(n) = s.backlog.pop_front() {
                s.last_sent = s.last_sent.max(n.id);
                return Some((Ok(notification_event(&n)), s));
            }
            match s.sub.next().await {
                Next::Event(e) => {
                    if let Event::Notification(n) = &*e {
                        if s.replayed.remove(&n.id) {
                            continue;
                        }
                        s.last_sent = s.last_sent.max(n.id);
                        return Some((Ok(notification_event(n)), s));
                    }
                }
                Next::Lagged => match notifications::missed(&s.db, s.user_id, s.last_sent).await {
                    Ok(missed) => {
                        s.replayed = missed.iter().map(|n| n.id).collect();
                        s.backlog = missed.into();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "event stream could not catch up; closing it");
                        return None;
                    }
                },
                Next::Closed => return None,
            }
        }
    });
    Ok(sse_response(&state, events))
}

#[utoipa::path(get, path = "/api/v1/posts/{id}/events", tag = "events",
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 200, description = "text/event-stream: `connected`, then `comment.created` with `{post_id, comment_id}` for each new comment", content_type = "text/event-stream"),
              (status = 404, description = "No such post (or a draft you may not see)", body = crate::handlers::openapi::Problem)))]
pub async fn post_stream(State(state): State<AppState>, caller: Option<Caller>, Id(id): Id) -> Result<Response> {
    let viewer = caller.map(|c| c.user);
    let post = posts::get(&state.db, viewer.as_ref(), id).await?;
    let sub = state.bus.subscribe_post(post.id);
    let post_id = post.id;
    let hello = SseEvent::default()
        .event("connected")
        .retry(std::time::Duration::from_millis(RETRY_MS))
        .data(json!({ "post_id": post_id }).to_string());
    let events = stream::unfold((Some(hello), sub), move |(hello, mut sub)| async move {
        if let Some(h) = hello {
            return Some((Ok(h), (None, sub)));
        }
        loop {
            match sub.next().await {
                Next::Event(e) => {
                    if let Event::Comment { post_id, comment_id } = &*e {
                        let data = json!({ "post_id": post_id, "comment_id": comment_id }).to_string();
                        let ev = SseEvent::default().event("comment.created").data(data);
                        return Some((Ok(ev), (None, sub)));
                    }
                }
                // A comment list is refreshed whole; missing a few signals changes nothing.
                Next::Lagged => {
                    let ev =
                        SseEvent::default().event("comment.created").data(json!({ "post_id": post_id }).to_string());
                    return Some((Ok(ev), (None, sub)));
                }
                Next::Closed => return None,
            }
        }
    });
    Ok(sse_response(&state, events))
}
