//! `POST /api/webhooks/stripe` and `POST /api/webhooks/github`: the raw body is verified
//! against the provider's signature, stored once and queued; the answer is immediate.
//! A bad, missing or stale signature is a 400 problem; a redelivery is a 200 that does nothing.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    Json,
};
use serde_json::json;

use crate::{
    error::{Error, Result},
    models::{AppError, ErrorCode},
    services::webhooks::{self, Ingested},
    state::AppState,
};

/// A delivery whose JSON holds a NUL character: no provider sends one, and it could not be stored.
fn refuse_nul(body: &[u8]) -> Result<()> {
    if crate::middleware::input_guard::json_has_nul(body) {
        return Err(Error::bad_request("The payload contains a NUL character."));
    }
    Ok(())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn not_configured(what: &str, var: &str) -> Error {
    Error::App(AppError::new(
        ErrorCode::ServiceUnavailable,
        format!("{what} webhooks are not configured on this server ({var})."),
    ))
}

fn answer(outcome: Ingested) -> impl IntoResponse {
    let body = match outcome {
        Ingested::Queued { event_id } => json!({ "received": true, "event_id": event_id, "queued": true }),
        Ingested::Recorded { event_id } => json!({ "received": true, "event_id": event_id, "queued": false }),
        Ingested::Duplicate => json!({ "received": true, "duplicate": true }),
    };
    (StatusCode::OK, Json(body))
}

#[utoipa::path(post, path = "/api/webhooks/stripe", tag = "webhooks",
    request_body(content = String, description = "A Stripe event, exactly as Stripe signed it", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "t=<unix>,v1=<hex>[,v1=<hex>]")),
    responses((status = 200, description = "Stored (or already stored)"), (status = 400, description = "Bad, missing or stale signature, or not an event", body = crate::middleware::problem::Problem)))]
pub async fn stripe(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<impl IntoResponse> {
    let secrets: Vec<&str> = state.config.stripe_webhook_secrets.iter().map(|s| s.expose().as_str()).collect();
    if secrets.is_empty() {
        return Err(not_configured("Stripe", "QUIRE_STRIPE_WEBHOOK_SECRET"));
    }
    let now = chrono::Utc::now().timestamp();
    webhooks::verify_stripe(header(&headers, "stripe-signature"), &body, &secrets, state.config.stripe_tolerance, now)
        .map_err(|e| Error::bad_request(format!("Stripe-Signature rejected: {e}.")))?;
    refuse_nul(&body)?;
    Ok(answer(webhooks::ingest_stripe(&state.db, &state.queue, &body).await?))
}

#[utoipa::path(post, path = "/api/webhooks/github", tag = "webhooks",
    request_body(content = String, description = "A GitHub webhook payload", content_type = "application/json"),
    params(
        ("X-Hub-Signature-256" = String, Header, description = "sha256=<hex>"),
        ("X-GitHub-Event" = String, Header, description = "ping, release, …"),
        ("X-GitHub-Delivery" = String, Header, description = "The delivery's id (deduplication)"),
    ),
    responses((status = 200, description = "Stored (or already stored); `ping` answered"), (status = 400, description = "Bad or missing signature, or missing headers", body = crate::middleware::problem::Problem)))]
pub async fn github(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<impl IntoResponse> {
    let secret = state
        .config
        .github_webhook_secret
        .as_ref()
        .ok_or_else(|| not_configured("GitHub", "QUIRE_GITHUB_WEBHOOK_SECRET"))?;
    webhooks::verify_github(header(&headers, "x-hub-signature-256"), &body, secret.expose())
        .map_err(|e| Error::bad_request(format!("X-Hub-Signature-256 rejected: {e}.")))?;
    refuse_nul(&body)?;
    let event = header(&headers, "x-github-event").ok_or_else(|| Error::bad_request("X-GitHub-Event is missing."))?;
    let delivery =
        header(&headers, "x-github-delivery").ok_or_else(|| Error::bad_request("X-GitHub-Delivery is missing."))?;
    let outcome = webhooks::ingest_github(&state.db, &state.queue, event, delivery, &body).await?;
    if event == "ping" {
        return Ok((StatusCode::OK, Json(json!({ "received": true, "pong": true }))).into_response());
    }
    Ok(answer(outcome).into_response())
}
