//! Request metrics: every answer is counted by route template (never the raw path), method and
//! status (`http_requests_total`), timed (`http_request_duration_seconds`, a histogram), and
//! fed to the live operations numbers; `http_requests_in_flight` is the number being served.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

use crate::state::AppState;

/// The route a response answered (set by [`remember_route`] where the router matched one).
#[derive(Clone)]
pub struct RouteTemplate(pub Arc<str>);

/// Put on routes (as a route layer): remembers the matched route's template (with the prefix
/// of the router it is nested in) on the response.
pub async fn remember_route(req: Request, next: Next) -> Response {
    let template = req.extensions().get::<MatchedPath>().map(|m| Arc::<str>::from(m.as_str()));
    let mut res = next.run(req).await;
    if let Some(t) = template {
        // The innermost router's template is the most precise: keep it.
        if res.extensions().get::<RouteTemplate>().is_none() {
            res.extensions_mut().insert(RouteTemplate(t));
        }
    }
    res
}

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let in_flight = metrics::gauge!("http_requests_in_flight");
    in_flight.increment(1.0);
    let res = next.run(req).await;
    in_flight.decrement(1.0);
    let elapsed = start.elapsed();
    let status = res.status();
    let route = res.extensions().get::<RouteTemplate>().map_or_else(|| Arc::from("unmatched"), |r| r.0.clone());
    let code = status.as_str().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.to_string(), "status" => code.clone())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route.to_string(), "status" => code)
        .record(elapsed.as_secs_f64());
    state.ops.record(elapsed, status.is_server_error());
    res
}

fn method_label(m: &axum::http::Method) -> &'static str {
    match *m {
        axum::http::Method::GET => "GET",
        axum::http::Method::POST => "POST",
        axum::http::Method::PUT => "PUT",
        axum::http::Method::PATCH => "PATCH",
        axum::http::Method::DELETE => "DELETE",
        axum::http::Method::HEAD => "HEAD",
        axum::http::Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
