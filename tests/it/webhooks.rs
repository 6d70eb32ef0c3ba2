//! Webhooks end to end: signatures computed as Stripe and GitHub compute them, each delivery
//! stored once, and the plan change carried out by the job queue's workers.

use crate::common;

use axum::{body::Body, http::Method};
use common::{eventually, user_with_token, RequestSpec, TestApp, TestResponse};
use quire::services::webhooks::{github_signature, stripe_signature};
use serde_json::{json, Value};

const STRIPE_SECRET: &str = "whsec_quire_test";
const GITHUB_SECRET: &str = "It's a Secret to Everybody";

fn config() -> Vec<(&'static str, &'static str)> {
    vec![
        ("QUIRE_STRIPE_WEBHOOK_SECRET", STRIPE_SECRET),
        ("QUIRE_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
        ("QUIRE_JOB_BACKOFF_SECS", "1"),
        ("QUIRE_JOB_POLL_MS", "50"),
    ]
}

/// Another app on the same kind of database as `app`, with `config()` and `extra`.
async fn app_like(app: &TestApp, extra: &[(&str, &str)]) -> TestApp {
    TestApp::builder().on_postgres(app.is_postgres()).with(&config()).with(extra).build().await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn stripe(app: &TestApp, body: &str, signature: Option<String>) -> TestResponse {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(s) = signature {
        headers.push(("stripe-signature".into(), s));
    }
    app.client()
        .request(RequestSpec {
            method: Method::POST,
            path: "/api/webhooks/stripe".into(),
            headers,
            body: Body::from(body.to_string()),
        })
        .await
}

async fn signed_stripe(app: &TestApp, event: &Value) -> TestResponse {
    let body = event.to_string();
    let sig = stripe_signature(STRIPE_SECRET, now(), body.as_bytes());
    stripe(app, &body, Some(sig)).await
}

async fn github(app: &TestApp, event: &str, delivery: &str, body: &str, signature: Option<String>) -> TestResponse {
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("x-github-event".into(), event.into()),
        ("x-github-delivery".into(), delivery.into()),
    ];
    if let Some(s) = signature {
        headers.push(("x-hub-signature-256".into(), s));
    }
    app.client()
        .request(RequestSpec {
            method: Method::POST,
            path: "/api/webhooks/github".into(),
            headers,
            body: Body::from(body.to_string()),
        })
        .await
}

async fn me(app: &TestApp, token: &str) -> Value {
    app.client().api(Method::GET, "/api/v1/me", Some(token), None, &[]).await.json()
}

on_both_databases!(
    with &config();
    stripe_signatures_are_checked,
    stripe_redelivery_is_processed_once,
    plan_follows_the_subscription_through_the_queue,
    github_release_becomes_a_draft_once,
    an_older_stripe_event_never_overrides_a_newer_one
);

async fn billing(app: &TestApp, uid: i64) -> (String, String) {
    let row = quire::services::billing::billing(
        app.db(),
        &app.state.config,
        &quire::services::accounts::find(app.db(), uid).await.unwrap().unwrap(),
    )
    .await
    .unwrap();
    (row.plan.as_str().to_string(), row.status.unwrap_or_default())
}

async fn an_older_stripe_event_never_overrides_a_newer_one(app: TestApp) {
    let (user, _) = user_with_token(&app, "ordered@example.com").await;
    let uid = user["id"].as_i64().unwrap();
    app.start_workers();
    let t0 = now() - 600;
    let sub = |id: &str, kind: &str, status: &str, created: i64| {
        json!({"id": id, "type": kind, "created": created,
               "data": {"object": {"id": "sub_9", "customer": "cus_9", "status": status, "metadata": {"user_id": uid.to_string()}}}})
    };
    // Created, then deleted; the delayed "updated: active" (older) arrives last.
    assert_eq!(signed_stripe(&app, &sub("evt_o1", "customer.subscription.created", "active", t0)).await.status, 200);
    eventually("pro", || async { billing(&app, uid).await.0 == "pro" }).await;
    assert_eq!(
        signed_stripe(&app, &sub("evt_o3", "customer.subscription.deleted", "canceled", t0 + 20)).await.status,
        200
    );
    eventually("free", || async { billing(&app, uid).await == ("free".into(), "canceled".into()) }).await;
    assert_eq!(
        signed_stripe(&app, &sub("evt_o2", "customer.subscription.updated", "active", t0 + 10)).await.status,
        200
    );
    eventually("the late event is handled", || async {
        app.count("SELECT COUNT(*) FROM webhook_events WHERE external_id = 'evt_o2' AND status <> 'pending'").await == 1
    })
    .await;
    assert_eq!(billing(&app, uid).await, ("free".into(), "canceled".into()), "a cancelled user stays free");
    // Same second as the cancellation: still cancelled.
    assert_eq!(
        signed_stripe(&app, &sub("evt_o4", "customer.subscription.updated", "active", t0 + 20)).await.status,
        200
    );
    eventually("handled", || async {
        app.count("SELECT COUNT(*) FROM webhook_events WHERE external_id = 'evt_o4' AND status <> 'pending'").await == 1
    })
    .await;
    assert_eq!(billing(&app, uid).await.0, "free");

    // A new subscription, then a payment failure: shown in the subscription state.
    let new_sub = |id: &str, status: &str, created: i64| {
        json!({"id": id, "type": "customer.subscription.created", "created": created,
               "data": {"object": {"id": "sub_10", "customer": "cus_9", "status": status}}})
    };
    assert_eq!(signed_stripe(&app, &new_sub("evt_o5", "active", t0 + 30)).await.status, 200);
    eventually("pro again", || async { billing(&app, uid).await == ("pro".into(), "active".into()) }).await;
    let failed = json!({"id": "evt_o6", "type": "invoice.payment_failed", "created": t0 + 40,
        "data": {"object": {"id": "in_9", "customer": "cus_9", "subscription": "sub_10", "amount_due": 900, "currency": "eur"}}});
    assert_eq!(signed_stripe(&app, &failed).await.status, 200);
    eventually("past due", || async { billing(&app, uid).await.1 == "past_due" }).await;
    // An older failure arriving after a newer recovery changes nothing.
    assert_eq!(
        signed_stripe(
            &app,
            &new_sub("evt_o7", "active", t0 + 50)
                .to_string()
                .replace("customer.subscription.created", "customer.subscription.updated")
                .parse::<Value>()
                .unwrap()
        )
        .await
        .status,
        200
    );
    eventually("active again", || async { billing(&app, uid).await.1 == "active" }).await;
    let stale_failure = json!({"id": "evt_o8", "type": "invoice.payment_failed", "created": t0 + 45,
        "data": {"object": {"id": "in_8", "customer": "cus_9", "subscription": "sub_10"}}});
    assert_eq!(signed_stripe(&app, &stale_failure).await.status, 200);
    eventually("handled", || async {
        app.count("SELECT COUNT(*) FROM webhook_events WHERE external_id = 'evt_o8' AND status <> 'pending'").await == 1
    })
    .await;
    assert_eq!(billing(&app, uid).await, ("pro".into(), "active".into()));
}

async fn stripe_signatures_are_checked(app: TestApp) {
    let event = json!({"id": "evt_sig", "type": "invoice.paid", "data": {"object": {}}}).to_string();
    let t = now();
    let good = stripe_signature(STRIPE_SECRET, t, event.as_bytes());

    // Tampered body: the signature no longer matches.
    let tampered = event.replace("invoice.paid", "invoice.void");
    let res = stripe(&app, &tampered, Some(good.clone())).await;
    let p = res.problem(400, "BAD_REQUEST");
    assert!(p["detail"].as_str().unwrap().contains("no signature matches"), "{p}");
    // Missing, malformed, wrong secret, stale (older than 300 s), from the future.
    stripe(&app, &event, None).await.problem(400, "BAD_REQUEST");
    stripe(&app, &event, Some("t=abc,v1=zz".into())).await.problem(400, "BAD_REQUEST");
    stripe(&app, &event, Some(stripe_signature("whsec_other", t, event.as_bytes()))).await.problem(400, "BAD_REQUEST");
    let stale = stripe(&app, &event, Some(stripe_signature(STRIPE_SECRET, t - 301, event.as_bytes()))).await;
    assert!(stale.problem(400, "BAD_REQUEST")["detail"].as_str().unwrap().contains("tolerance"));
    // From the future by more than the tolerance however long the test has run so far
    // (`t + 301` passed whenever a second went by before the check: a slow machine's flake).
    stripe(&app, &event, Some(stripe_signature(STRIPE_SECRET, now() + 360, event.as_bytes())))
        .await
        .problem(400, "BAD_REQUEST");
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 0, "nothing unsigned is stored");

    // Rotation: Stripe sends one v1 per active secret; any may match.
    let old = stripe_signature("whsec_rolled_away", t, event.as_bytes());
    let rotated = format!("{old},v1={}", good.split("v1=").nth(1).unwrap());
    let res = stripe(&app, &event, Some(rotated)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["received"], true);

    // And several configured secrets while rolling ours: the old one still verifies.
    let app2 = app_like(&app, &[("QUIRE_STRIPE_WEBHOOK_SECRET", "whsec_new,whsec_quire_test")]).await;
    let res = stripe(&app2, &event, Some(good)).await;
    assert_eq!(res.status, 200, "{}", res.text());
}

async fn stripe_redelivery_is_processed_once(app: TestApp) {
    let (user, token) = user_with_token(&app, "once@example.com").await;
    let uid = user["id"].as_i64().unwrap();
    let checkout = json!({"id": "evt_checkout_1", "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_1", "customer": "cus_once", "client_reference_id": uid.to_string()}}});
    let first = signed_stripe(&app, &checkout).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["queued"], true);
    let again = signed_stripe(&app, &checkout).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 1, "a redelivery queues nothing");

    app.start_workers();
    eventually("the checkout event is processed", || async {
        app.count("SELECT COUNT(*) FROM webhook_events WHERE status = 'processed'").await == 1
    })
    .await;
    // Processed once: one audit entry for the link.
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'billing.link'").await, 1);
    let _ = me(&app, &token).await;
}

async fn plan_follows_the_subscription_through_the_queue(app: TestApp) {
    let (user, token) = user_with_token(&app, "payer@example.com").await;
    let uid = user["id"].as_i64().unwrap();
    app.start_workers();

    // The subscription may arrive before the checkout that links its customer: it fails,
    // is retried with backoff, and succeeds once the link exists.
    let period_end = now() + 30 * 86_400;
    let created = json!({"id": "evt_sub_created", "type": "customer.subscription.created",
        "data": {"object": {"id": "sub_1", "customer": "cus_payer", "status": "active", "current_period_end": period_end}}});
    assert_eq!(signed_stripe(&app, &created).await.status, 200);
    eventually("the early subscription event fails once", || async {
        app.count("SELECT COUNT(*) FROM jobs WHERE attempts >= 1 AND last_error LIKE '%not linked%'").await == 1
    })
    .await;
    assert_eq!(me(&app, &token).await["plan"], "free");

    let checkout = json!({"id": "evt_checkout_2", "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_2", "customer": "cus_payer", "metadata": {"user_id": uid.to_string()}}}});
    assert_eq!(signed_stripe(&app, &checkout).await.status, 200);
    eventually("the plan becomes pro", || async { me(&app, &token).await["plan"] == "pro" }).await;
    // The job is marked done just after its change commits.
    eventually("both jobs are done", || async {
        app.count("SELECT COUNT(*) FROM jobs WHERE status = 'done'").await == 2
    })
    .await;
    let n = app
        .count(&format!("SELECT COUNT(*) FROM notifications WHERE user_id = {uid} AND kind = 'subscription.updated'"))
        .await;
    assert_eq!(n, 1);

    // Past due: back to free. Deleted: free as well.
    let past_due = json!({"id": "evt_sub_past_due", "type": "customer.subscription.updated",
        "data": {"object": {"id": "sub_1", "customer": "cus_payer", "status": "past_due",
                            "items": {"data": [{"current_period_end": period_end}]}}}});
    assert_eq!(signed_stripe(&app, &past_due).await.status, 200);
    eventually("past_due means free", || async { me(&app, &token).await["plan"] == "free" }).await;
    let trialing = json!({"id": "evt_sub_trial", "type": "customer.subscription.updated",
        "data": {"object": {"id": "sub_1", "customer": "cus_payer", "status": "trialing"}}});
    assert_eq!(signed_stripe(&app, &trialing).await.status, 200);
    eventually("trialing means pro", || async { me(&app, &token).await["plan"] == "pro" }).await;
    let deleted = json!({"id": "evt_sub_deleted", "type": "customer.subscription.deleted",
        "data": {"object": {"id": "sub_1", "customer": "cus_payer", "status": "canceled"}}});
    assert_eq!(signed_stripe(&app, &deleted).await.status, 200);
    eventually("deleted means free", || async { me(&app, &token).await["plan"] == "free" }).await;

    // A failed payment notifies the user.
    let failed = json!({"id": "evt_inv_failed", "type": "invoice.payment_failed",
        "data": {"object": {"id": "in_1", "customer": "cus_payer", "amount_due": 900, "currency": "eur"}}});
    assert_eq!(signed_stripe(&app, &failed).await.status, 200);
    eventually("payment failure notified", || async {
        app.count(&format!("SELECT COUNT(*) FROM notifications WHERE user_id = {uid} AND kind = 'payment.failed'"))
            .await
            == 1
    })
    .await;
}

async fn github_release_becomes_a_draft_once(app: TestApp) {
    let (user, token) = user_with_token(&app, "maintainer@example.com").await;
    let uid = user["id"].as_i64().unwrap();
    let res = app
        .client()
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{uid}"),
            Some(&token),
            Some(json!({"github_repo": "Quire-Org/Quire"})),
            &[],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.start_workers();

    // ping is answered (and needs a valid signature like everything else).
    let ping = json!({"zen": "Keep it logically awesome.", "hook_id": 1}).to_string();
    let res = github(&app, "ping", "d-ping", &ping, Some(github_signature(GITHUB_SECRET, ping.as_bytes()))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["pong"], true);
    github(&app, "ping", "d-ping-2", &ping, None).await.problem(400, "BAD_REQUEST");
    github(&app, "ping", "d-ping-3", &ping, Some(github_signature("wrong", ping.as_bytes())))
        .await
        .problem(400, "BAD_REQUEST");

    let release = json!({"action": "published", "repository": {"id": 4242, "full_name": "quire-org/quire"},
        "release": {"id": 77, "tag_name": "v1.2.0", "body": "## Changes\n\n- Faster feeds", "html_url": "https://github.com/quire-org/quire/releases/v1.2.0"}})
    .to_string();
    let sig = github_signature(GITHUB_SECRET, release.as_bytes());
    let res = github(&app, "release", "d-rel-1", &release, Some(sig.clone())).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["queued"], true);
    let dup = github(&app, "release", "d-rel-1", &release, Some(sig)).await;
    assert_eq!(dup.json()["duplicate"], true);

    eventually("the release draft exists", || async {
        app.count("SELECT COUNT(*) FROM webhook_events WHERE status = 'processed' AND kind = 'release.published'").await
            == 1
    })
    .await;
    let drafts = app
        .count(&format!(
            "SELECT COUNT(*) FROM posts WHERE author_id = {uid} AND title = 'Release v1.2.0' AND published = false"
        ))
        .await;
    assert_eq!(drafts, 1, "one draft, however often GitHub delivers");
    let body = match app.db() {
        quire::db::Db::Sqlite(p, ..) => {
            sqlx::query_scalar::<_, String>("SELECT body FROM posts").fetch_one(p).await.unwrap()
        }
        quire::db::Db::Postgres(p) => {
            sqlx::query_scalar::<_, String>("SELECT body FROM posts").fetch_one(p).await.unwrap()
        }
    };
    assert!(body.starts_with("## Changes\n\n- Faster feeds"), "{body}");

    // The same release under new delivery ids (GitHub's "redeliver", or a second hook): no second draft.
    for d in ["d-rel-1b", "d-rel-1c"] {
        let res = github(&app, "release", d, &release, Some(github_signature(GITHUB_SECRET, release.as_bytes()))).await;
        assert_eq!(res.json()["queued"], true);
    }
    eventually("the redeliveries are handled", || async {
        app.count("SELECT COUNT(*) FROM jobs WHERE status = 'done'").await == 3
    })
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 1, "one release, one draft");
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'post.drafted'").await, 1);
    // A retried job (its delivery processed again) does not repeat the draft either.
    let event_id = app.count("SELECT MIN(id) FROM webhook_events WHERE kind = 'release.published'").await;
    quire::services::webhooks::process(app.db(), app.bus(), event_id, false).await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 1);

    // A repository belongs to one account: another cannot register it.
    let (other_user, other_token) = user_with_token(&app, "copycat@example.com").await;
    let res = app
        .client()
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", other_user["id"]),
            Some(&other_token),
            Some(json!({"github_repo": "quire-org/QUIRE"})),
            &[],
        )
        .await;
    assert_eq!(res.problem(422, "VALIDATION_ERROR")["errors"][0]["field"], "github_repo");

    // A release of a repository nobody registered is recorded and ignored.
    let other = release.replace("quire-org/quire", "someone/else").replace("4242", "999");
    let res = github(&app, "release", "d-rel-2", &other, Some(github_signature(GITHUB_SECRET, other.as_bytes()))).await;
    assert_eq!(res.status, 200);
    eventually("the unknown repository's release is ignored", || async {
        app.count("SELECT COUNT(*) FROM webhook_events WHERE status = 'ignored' AND external_id = 'd-rel-2'").await == 1
    })
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 1);
}

#[tokio::test]
async fn unconfigured_webhooks_say_so() {
    let app = TestApp::sqlite().await;
    let res = stripe(&app, "{}", Some("t=1,v1=00".into())).await;
    res.problem(503, "SERVICE_UNAVAILABLE");
}
