//! Server-Sent Events. `GET /api/v1/events`: the caller's notifications, live, after an
//! `event: connected`; `Last-Event-ID` replays what a reconnecting client missed; a heartbeat
//! comment keeps proxies from closing an idle stream. `GET /api/v1/posts/{id}/events`: a
//! post's new comments, for anyone who may read the post.
//!
//! A stream owns one bus subscription and one place in the stream caps, nothing else; when
//! the client goes away the server drops the body, and with it both. Streams are capped per
//! user and per client address (429 beyond), and at every heartbeat a stream checks that the
//! credential it was opened with still stands: a revoked token, a signed-out session or a
//! deleted account ends it within one heartbeat (with a last `event: revoked`).

use std::{collections::VecDeque, convert::Infallible, pin::Pin, time::Duration};

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{
        sse::{Event as SseEvent, Sse},
        IntoResponse, Response,
    },
};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::json;

use crate::{
    db::Db,
    error::Result,
    handlers::extract::Id,
    middleware::{auth::Caller, client_ip::ClientKey},
    models::{Notification, NotificationKind},
    services::{
        events::{Event, Next, Subscription},
        notifications, posts,
        streams::{self, Credential, StreamPermit},
    },
    state::AppState,
};

/// How long a browser waits before reconnecting (the `retry:` field).
const RETRY_MS: u64 = 2000;

type Events = Pin<Box<dyn Stream<Item = std::result::Result<SseEvent, Infallible>> + Send>>;

/// What a stream checks at each heartbeat, and holds while open.
pub(crate) struct Guard {
    pub db: Db,
    pub credential: Credential,
    /// The stream's place in the caps, given back when the stream is dropped.
    pub _permit: Option<StreamPermit>,
}

struct Beating {
    inner: Events,
    tick: tokio::time::Interval,
    guard: Option<Guard>,
    ended: bool,
}

/// `inner`, with a heartbeat comment whenever `every` passes; with a guard, each heartbeat
/// first checks the credential, and a stream whose credential is gone ends.
fn with_heartbeat(inner: Events, every: Duration, guard: Option<Guard>) -> Events {
    let tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let state = Beating { inner, tick, guard, ended: false };
    Box::pin(stream::unfold(state, |mut s| async move {
        if s.ended {
            return None;
        }
        tokio::select! {
            item = s.inner.next() => item.map(|i| (i, s)),
            _ = s.tick.tick() => {
                if let Some(g) = &s.guard {
                    if !streams::credential_stands(&g.db, &g.credential).await {
                        s.ended = true;
                        let bye = SseEvent::default().event("revoked")
                            .data(json!({ "reason": "The credential this stream was opened with is no longer valid." }).to_string());
                        return Some((Ok(bye), s));
                    }
                }
                Some((Ok(SseEvent::default().comment("heartbeat")), s))
            }
        }
    }))
}

/// An event-stream answer: heartbeats while idle (and credential checks, with a guard), no
/// caching, no proxy buffering.
pub(crate) fn sse_response<S>(state: &AppState, stream: S, guard: Option<Guard>) -> Response
where
    S: Stream<Item = std::result::Result<SseEvent, Infallible>> + Send + 'static,
{
    let mut res = Sse::new(with_heartbeat(Box::pin(stream), state.config.sse_heartbeat, guard)).into_response();
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
              (status = 401, description = "No credentials", body = crate::middleware::problem::Problem),
              (status = 429, description = "Too many open streams for this account or address", body = crate::middleware::problem::Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
) -> Result<Response> {
    let user_id = caller.user.id;
    let permit = state.streams.try_open(Some(user_id), &client)?;
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
    let guard = Guard { db: state.db.clone(), credential: caller.credential(), _permit: Some(permit) };
    Ok(sse_response(&state, events, Some(guard)))
}

#[utoipa::path(get, path = "/api/v1/posts/{id}/events", tag = "events",
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 200, description = "text/event-stream: `connected`, then `comment.created` with `{post_id, comment_id}` for each new comment", content_type = "text/event-stream"),
              (status = 404, description = "No such post (or a draft you may not see)", body = crate::middleware::problem::Problem),
              (status = 429, description = "Too many open streams for this account or address", body = crate::middleware::problem::Problem)))]
pub async fn post_stream(
    State(state): State<AppState>,
    caller: Option<Caller>,
    ClientKey(client): ClientKey,
    Id(id): Id,
) -> Result<Response> {
    let post = posts::get(&state.db, caller.as_ref().map(|c| &c.user), id).await?;
    let permit = state.streams.try_open(caller.as_ref().map(|c| c.user.id), &client)?;
    let credential = caller.as_ref().map(Caller::credential).unwrap_or(Credential::Anonymous);
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
                        let ev = SseEvent::default().event(NotificationKind::CommentCreated.as_str()).data(data);
                        return Some((Ok(ev), (None, sub)));
                    }
                }
                // A comment list is refreshed whole; missing a few signals changes nothing.
                Next::Lagged => {
                    let ev = SseEvent::default()
                        .event(NotificationKind::CommentCreated.as_str())
                        .data(json!({ "post_id": post_id }).to_string());
                    return Some((Ok(ev), (None, sub)));
                }
                Next::Closed => return None,
            }
        }
    });
    let guard = Guard { db: state.db.clone(), credential, _permit: Some(permit) };
    Ok(sse_response(&state, events, Some(guard)))
}
