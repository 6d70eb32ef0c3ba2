//! Incoming webhooks: signatures checked exactly as the providers specify, each delivery
//! stored once (a redelivery is acknowledged and not processed twice) together with the
//! job that will process it — one transaction, so the answer to the provider can be fast
//! and nothing accepted is lost. The job runs [`process`] through [`Processor`].

use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{
    events::Bus,
    jobs::{self, JobFuture, JobHandler, Queue},
};
use crate::{
    db::{self, Db},
    error::{Error, Result},
    models::{post::PostContent, DeliveryStatus, Job, NotificationKind},
};

type HmacSha256 = Hmac<Sha256>;

/// Why a signature was refused (the 400's detail).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signed timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes any key length")
}

/// `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]`: HMAC-SHA256 of `"{t}.{body}"`
/// under the endpoint secret; any `v1` may match any configured secret (rotation); the
/// timestamp must be within `tolerance` of `now` (unix seconds). Comparison is constant-time.
pub fn verify_stripe(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&str],
    tolerance: Duration,
    now: i64,
) -> std::result::Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let (k, v) = item.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match k {
            "t" => timestamp = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            "v1" => signatures.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {} // v0 (test mode's legacy scheme) and future schemes are ignored, as Stripe's libraries do.
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let matched = secrets.iter().any(|secret| {
        let mut m = mac(secret.as_bytes());
        m.update(t.to_string().as_bytes());
        m.update(b".");
        m.update(body);
        // verify_slice compares in constant time; every candidate is checked.
        signatures.iter().fold(false, |ok, sig| ok | m.clone().verify_slice(sig).is_ok())
    });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    let age = now.saturating_sub(t).unsigned_abs();
    if age > tolerance.as_secs() {
        return Err(SignatureError::Stale);
    }
    Ok(t)
}

/// `X-Hub-Signature-256: sha256=<hex>`: HMAC-SHA256 of the raw body under the webhook secret.
pub fn verify_github(header: Option<&str>, body: &[u8], secret: &str) -> std::result::Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_sig = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let sig = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    let mut m = mac(secret.as_bytes());
    m.update(body);
    // verify_slice compares in constant time.
    m.verify_slice(&sig).map_err(|_| SignatureError::Mismatch)
}

/// Signs like Stripe does (for tests and local tooling): the `Stripe-Signature` value.
pub fn stripe_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut m = mac(secret.as_bytes());
    m.update(format!("{timestamp}.").as_bytes());
    m.update(body);
    format!("t={timestamp},v1={}", hex::encode(m.finalize().into_bytes()))
}

/// Signs like GitHub does: the `X-Hub-Signature-256` value.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut m = mac(secret.as_bytes());
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// What happened to a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Stored, with a job to process it.
    Queued { event_id: i64 },
    /// Stored and answered; nothing to process (GitHub's ping, events Quire does not use).
    Recorded { event_id: i64 },
    /// This delivery was stored before: acknowledged, not processed again.
    Duplicate,
}

/// The Stripe events Quire acts on; others are recorded as ignored.
const STRIPE_EVENTS: &[&str] = &[
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.payment_failed",
];

/// A verified Stripe delivery: parsed just enough for its id and type, stored, queued.
pub async fn ingest_stripe(db: &Db, queue: &Queue, body: &[u8]) -> Result<Ingested> {
    let event: Value = serde_json::from_slice(body).map_err(|_| Error::bad_request("The body is not a JSON event."))?;
    let id = event.get("id").and_then(Value::as_str).filter(|s| !s.is_empty() && s.len() <= 255);
    let kind = event.get("type").and_then(Value::as_str).filter(|s| !s.is_empty() && s.len() <= 255);
    let (Some(id), Some(kind)) = (id, kind) else {
        return Err(Error::bad_request("The event needs an `id` and a `type`."));
    };
    let wanted = STRIPE_EVENTS.contains(&kind);
    counted("stripe", store(db, queue, "stripe", id, kind, body, wanted).await)
}

/// Counts a stored delivery in `quire_webhook_deliveries_total` (by source and outcome).
fn counted(source: &'static str, stored: Result<Ingested>) -> Result<Ingested> {
    let outcome = match &stored {
        Ok(Ingested::Queued { .. }) => "queued",
        Ok(Ingested::Recorded { .. }) => "recorded",
        Ok(Ingested::Duplicate) => "duplicate",
        Err(_) => "error",
    };
    metrics::counter!("quire_webhook_deliveries_total", "source" => source, "outcome" => outcome).increment(1);
    stored
}

/// A verified GitHub delivery. `ping` and anything but a release are recorded, not queued.
pub async fn ingest_github(db: &Db, queue: &Queue, event: &str, delivery: &str, body: &[u8]) -> Result<Ingested> {
    if delivery.is_empty() || delivery.len() > 255 {
        return Err(Error::bad_request("X-GitHub-Delivery must name the delivery."));
    }
    if event.is_empty() || event.len() > 100 {
        return Err(Error::bad_request("X-GitHub-Event must name the event."));
    }
    let payload: Value = serde_json::from_slice(body).map_err(|_| Error::bad_request("The body is not JSON."))?;
    let action = payload.get("action").and_then(Value::as_str).unwrap_or("");
    let kind = if action.is_empty() { event.to_string() } else { format!("{event}.{action}") };
    counted("github", store(db, queue, "github", delivery, &kind, body, kind == "release.published").await)
}

async fn store(
    db: &Db,
    queue: &Queue,
    source: &str,
    external_id: &str,
    kind: &str,
    body: &[u8],
    wanted: bool,
) -> Result<Ingested> {
    let payload = std::str::from_utf8(body).map_err(|_| Error::bad_request("The body is not UTF-8."))?;
    let mut tx = db.begin().await?;
    let Some(event_id) = db::webhooks::insert_once(tx.conn(), source, external_id, kind, payload, Utc::now()).await?
    else {
        return Ok(Ingested::Duplicate);
    };
    let outcome = if wanted {
        jobs::enqueue(tx.conn(), queue.settings(), PROCESS_WEBHOOK, &json!({ "event_id": event_id })).await?;
        Ingested::Queued { event_id }
    } else {
        let status = if kind == "ping" { DeliveryStatus::Processed } else { DeliveryStatus::Ignored };
        db::webhooks::set_outcome(tx.conn(), event_id, status, None, Utc::now()).await?;
        Ingested::Recorded { event_id }
    };
    tx.commit().await?;
    if wanted {
        queue.wake();
    }
    Ok(outcome)
}

/// The job kind that processes a stored delivery (`{"event_id": …}`).
pub const PROCESS_WEBHOOK: &str = "webhook.process";

/// Admin: processes a delivery again (a new job; the event goes back to `pending`).
pub async fn retry(db: &Db, queue: &Queue, event_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let event =
        db::webhooks::find(tx.conn(), event_id).await?.ok_or_else(|| Error::not_found("No such webhook event."))?;
    if event.status != DeliveryStatus::Failed {
        return Err(Error::App(crate::models::AppError::conflict("Only a failed webhook event can be retried.")));
    }
    db::webhooks::reset(tx.conn(), event_id).await?;
    jobs::enqueue(tx.conn(), queue.settings(), PROCESS_WEBHOOK, &json!({ "event_id": event_id })).await?;
    tx.commit().await?;
    queue.wake();
    Ok(())
}

/// Runs Quire's jobs.
pub struct Processor {
    pub db: Db,
    pub bus: Bus,
}

impl JobHandler for Processor {
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(async move {
            match job.kind.as_str() {
                PROCESS_WEBHOOK => {
                    let payload: Value = serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
                    let id = payload.get("event_id").and_then(Value::as_i64).ok_or("payload without event_id")?;
                    let last = job.attempts >= job.max_attempts;
                    process(&self.db, &self.bus, id, last).await
                }
                other => Err(format!("unknown job kind `{other}`")),
            }
        })
    }
}

/// Processes one stored delivery and records the outcome on it. `last_attempt`: a failure
/// now is final (the event shows `failed`; before that it stays `pending` with the error).
pub async fn process(db: &Db, bus: &Bus, event_id: i64, last_attempt: bool) -> std::result::Result<(), String> {
    let loaded = async {
        let mut conn = db.acquire().await?;
        Ok::<_, Error>(db::webhooks::payload(conn.conn(), event_id).await?)
    }
    .await
    .map_err(|e| e.to_string())?;
    let Some(delivery) = loaded else { return Err(format!("webhook event {event_id} is gone")) };
    let payload: Value =
        serde_json::from_str(&delivery.payload).map_err(|e| format!("stored payload is not JSON: {e}"))?;
    let kind = delivery.kind.as_str();
    let result = match delivery.source.as_str() {
        "stripe" => super::billing::apply_stripe_event(db, bus, kind, &payload, delivery.received_at).await,
        "github" => apply_github_event(db, bus, kind, &payload).await,
        other => Err(format!("unknown source `{other}`")),
    };
    let (status, error) = match &result {
        Ok(true) => (DeliveryStatus::Processed, None),
        Ok(false) => (DeliveryStatus::Ignored, None),
        Err(e) => (if last_attempt { DeliveryStatus::Failed } else { DeliveryStatus::Pending }, Some(e.as_str())),
    };
    let recorded = async {
        let mut conn = db.acquire().await?;
        db::webhooks::set_outcome(conn.conn(), event_id, status, error, Utc::now()).await
    }
    .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, event_id, "could not record a webhook event's outcome");
    }
    result.map(|_| ())
}

/// A published release of a registered repository: a draft post "Release <tag>" with the
/// release notes, for the account that registered it. One release (repository id + release
/// id) makes one draft, however many deliveries carry it and however often a job is
/// retried: the claim, the post and the notification commit together or not at all.
/// `Ok(false)` when nobody registered the repository or the release has its draft already.
async fn apply_github_event(db: &Db, bus: &Bus, kind: &str, payload: &Value) -> std::result::Result<bool, String> {
    if kind != "release.published" {
        return Ok(false);
    }
    let repo = payload
        .pointer("/repository/full_name")
        .and_then(Value::as_str)
        .ok_or("release without repository.full_name")?;
    let repo_id = payload.pointer("/repository/id").and_then(Value::as_i64).ok_or("release without repository.id")?;
    let release = payload.get("release").ok_or("release event without `release`")?;
    let release_id = release.get("id").and_then(Value::as_i64).ok_or("release without release.id")?;
    let tag = release
        .get("tag_name")
        .and_then(Value::as_str)
        .map(|t| t.replace('\0', ""))
        .filter(|t| !t.trim().is_empty())
        .ok_or("release without tag_name")?;
    let tag = tag.trim();
    let notes = release.get("body").and_then(Value::as_str).map(str::trim).filter(|b| !b.is_empty());
    let url = release.get("html_url").and_then(Value::as_str);
    let title: String = format!("Release {tag}").chars().take(crate::models::post::TITLE_MAX).collect();
    let mut body = notes.map(str::to_string).unwrap_or_else(|| format!("Release {tag} of {repo}."));
    if let Some(url) = url {
        body.push_str(&format!("\n\n[Release on GitHub]({url})"));
    }
    // PostgreSQL text cannot hold NUL; a release note has no use for one.
    let body: String = body.replace('\0', "").chars().take(crate::models::post::BODY_MAX).collect();
    let content =
        PostContent::parse(&title, &body, "tech", "release").map_err(|e| format!("release notes rejected: {e:?}"))?;
    let drafted = async {
        let mut tx = db.begin().await?;
        let Some(row) = db::users::find_by_github_repo(tx.conn(), repo).await? else { return Ok(None) };
        let user = row.into_user();
        if !db::webhooks::claim_release(tx.conn(), repo_id, release_id, user.id, Utc::now()).await? {
            return Ok(None);
        }
        let post = super::posts::create_draft_in(&mut tx, &user, &content).await?;
        db::webhooks::set_release_post(tx.conn(), repo_id, release_id, post.id).await?;
        let data = json!({ "post_id": post.id, "post_title": post.title, "repo": repo,
                           "url": format!("/dashboard/posts/{}/edit", post.id) });
        let n = super::notifications::raise(tx.conn(), user.id, NotificationKind::PostDrafted, &data).await?;
        tx.commit().await?;
        Ok::<_, Error>(Some(n))
    }
    .await
    .map_err(|e| e.to_string())?;
    match drafted {
        Some(n) => {
            super::notifications::deliver(bus, [n]);
            Ok(true)
        }
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_signature_matches_githubs_published_example() {
        // docs.github.com, "Validating webhook deliveries": secret "It's a Secret to Everybody",
        // payload "Hello, World!".
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(github_signature("It's a Secret to Everybody", b"Hello, World!"), expected);
        assert_eq!(verify_github(Some(expected), b"Hello, World!", "It's a Secret to Everybody"), Ok(()));
        assert_eq!(
            verify_github(Some(expected), b"Hello, World?", "It's a Secret to Everybody"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify_github(None, b"x", "s"), Err(SignatureError::Missing));
        assert_eq!(verify_github(Some("sha1=abc"), b"x", "s"), Err(SignatureError::Malformed));
    }

    #[test]
    fn stripe_signature_matches_stripes_own_library() {
        // Produced by stripe-node 17.7.0: stripe.webhooks.generateTestHeaderString({payload,
        // secret: "whsec_quire_test_vector", timestamp: 1764633600}); constructEvent accepted it.
        let payload = br#"{"id":"evt_test_vector","type":"customer.subscription.updated"}"#;
        let official = "t=1764633600,v1=6d95d87016da0cd8aa8903b33af7b2e3edbb5ce4353e86ef3570a6e6a740dfaa";
        assert_eq!(stripe_signature("whsec_quire_test_vector", 1_764_633_600, payload), official);
        let at = 1_764_633_600 + 299;
        assert_eq!(
            verify_stripe(Some(official), payload, &["whsec_quire_test_vector"], Duration::from_secs(300), at),
            Ok(1_764_633_600)
        );
    }

    #[test]
    fn stripe_signature_rules() {
        let body = br#"{"id":"evt_1","type":"ping"}"#;
        let now = 1_800_000_000;
        let header = stripe_signature("whsec_a", now, body);
        let ok =
            |h: &str, secrets: &[&str], at: i64| verify_stripe(Some(h), body, secrets, Duration::from_secs(300), at);
        assert_eq!(ok(&header, &["whsec_a"], now + 10), Ok(now));
        // Any configured secret, any v1 (rotation).
        let rotated =
            format!("{},v1={}", stripe_signature("whsec_old", now, body), &header[header.find("v1=").unwrap() + 3..]);
        assert_eq!(ok(&rotated, &["whsec_a"], now), Ok(now));
        assert_eq!(ok(&header, &["whsec_new", "whsec_a"], now), Ok(now));
        assert_eq!(ok(&header, &["whsec_b"], now), Err(SignatureError::Mismatch));
        assert_eq!(ok(&header, &["whsec_a"], now + 301), Err(SignatureError::Stale));
        assert_eq!(ok("garbage", &["whsec_a"], now), Err(SignatureError::Malformed));
        assert_eq!(ok(&format!("t={now}"), &["whsec_a"], now), Err(SignatureError::Mismatch));
        assert_eq!(verify_stripe(None, body, &["s"], Duration::from_secs(300), now), Err(SignatureError::Missing));
    }
}
