//! The web UI's side of issue 5 through its server functions and rendered pages: profile and
//! billing in settings, notifications, the admin lists with retry, and the reports form
//! without JavaScript.

use crate::common;

use axum::http::StatusCode;
use common::{Client, TestApp};
use quire::models::{validation::NewAccount, Role, User};
use serde_json::json;

async fn signed_in<'a>(app: &'a TestApp, email: &str, role: Role) -> (Client<'a>, User) {
    let user = quire::services::accounts::register(
        app.db(),
        NewAccount::parse(email, "Someone", "password123").unwrap(),
        role,
    )
    .await
    .unwrap();
    let mut c = app.client();
    let res = c.call_fn("/fn/login", &[("email", email), ("password", "password123"), ("next", "")]).await;
    assert!(res.status.is_success() || res.status.is_redirection(), "{}", res.text());
    (c, user)
}

async fn settings_change_the_profile_and_show_billing(app: TestApp) {
    let (mut c, _) = signed_in(&app, "settings@example.com", Role::User).await;
    let bad = c.call_fn("/fn/update_profile", &[("name", "Someone"), ("github_repo", "not a repo")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["errors"][0]["field"], "github_repo");
    let ok = c.call_fn("/fn/update_profile", &[("name", "Renamed"), ("github_repo", "Owner/Repo")]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let me = c.call_fn("/fn/current_user", &[]).await.json();
    assert_eq!((me["name"].as_str(), me["github_repo"].as_str()), (Some("Renamed"), Some("owner/repo")));

    let billing = c.call_fn("/fn/my_billing", &[]).await.json();
    assert_eq!(billing["plan"], "free");
    assert_eq!(billing["upgrade_url"], serde_json::Value::Null, "no checkout URL configured");
    let page = c.get_page("/settings").await.text();
    assert!(page.contains("GitHub repository") && page.contains("owner/repo"), "the profile form shows the repository");
    assert!(page.contains("Upgrades are not configured"));
}

async fn notifications_are_listed_and_marked_read(app: TestApp) {
    let (mut reader, _) = signed_in(&app, "reader@example.com", Role::User).await;
    let (mut author, author_user) = signed_in(&app, "author@example.com", Role::User).await;
    let post = quire::services::posts::create(
        app.db(),
        &author_user,
        quire::models::PostContent::parse("Notify me", "Body", "tech", "").unwrap(),
    )
    .await
    .unwrap();
    quire::services::posts::publish(app.db(), app.bus(), &author_user, post.id).await.unwrap();
    let id = post.id.to_string();
    reader.call_fn("/fn/add_comment", &[("post_id", &id), ("body", "Hello")]).await;
    reader.call_fn("/fn/set_like", &[("post_id", &id), ("liked", "true")]).await;

    assert_eq!(author.call_fn("/fn/unread_count", &[]).await.json(), 3, "published, commented, liked");
    let list = author.call_fn("/fn/my_notifications", &[("limit", "10")]).await.json();
    let kinds: Vec<&str> = list["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["post.liked", "comment.created", "post.published"]);
    let first = list["items"][0]["id"].as_i64().unwrap().to_string();
    author.call_fn("/fn/mark_read", &[("id", &first)]).await;
    assert_eq!(author.call_fn("/fn/unread_count", &[]).await.json(), 2);
    // Someone else's id marks nothing of theirs.
    reader.call_fn("/fn/mark_read", &[("id", &first)]).await;
    // Without JavaScript: "mark all read" posts the form and comes back.
    let back = author.submit_form("/fn/mark_read", "/notifications", &[]).await;
    assert_eq!(back.status, StatusCode::FOUND);
    assert_eq!(author.call_fn("/fn/unread_count", &[]).await.json(), 0);
    let page = author.get_page("/notifications").await.text();
    assert!(page.contains("commented on “Notify me”"), "the page lists them");
    assert_eq!(app.client().call_fn("/fn/unread_count", &[]).await.json(), 0, "signed out: nothing");
}

async fn the_admin_page_lists_and_retries_failed_work(app: TestApp) {
    let (mut user, _) = signed_in(&app, "user@example.com", Role::User).await;
    let denied = user.call_fn("/fn/admin_data", &[("search", "")]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // A job that failed for good, and a webhook delivery that failed.
    let db = app.db();
    let mut tx = db.begin().await.unwrap();
    let settings = quire::services::jobs::QueueSettings { max_attempts: 1, ..Default::default() };
    let job = quire::services::jobs::enqueue(tx.conn(), &settings, "no.such.kind", &json!({})).await.unwrap();
    let event = quire::db::webhooks::insert_once(
        tx.conn(),
        "stripe",
        "evt_admin",
        "customer.subscription.updated",
        "{}",
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .unwrap();
    quire::db::webhooks::set_outcome(
        tx.conn(),
        event,
        quire::models::DeliveryStatus::Failed,
        Some("boom"),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let handler = quire::services::webhooks::Processor { db: db.clone(), bus: app.bus().clone() };
    let ran = app.state.queue.run_one("test", &handler, chrono::Utc::now()).await.unwrap();
    assert_eq!(ran, quire::services::jobs::Ran::Failed(job));

    let (mut admin, _) = signed_in(&app, "admin@example.com", Role::Admin).await;
    let data = admin.call_fn("/fn/admin_data", &[("search", "")]).await.json();
    assert_eq!(data["jobs"][0]["status"], "failed");
    assert_eq!(data["jobs"][0]["last_error"], "unknown job kind `no.such.kind`");
    assert_eq!(data["webhook_events"][0]["last_error"], "boom");
    let page = admin.get_page("/admin").await.text();
    assert!(page.contains("unknown job kind") && page.contains("evt_admin") && page.contains("Retry"));

    let found = admin.call_fn("/fn/admin_data", &[("search", "user@")]).await.json();
    assert_eq!(found["users"].as_array().unwrap().len(), 1);

    let retried = admin.call_fn("/fn/retry_job", &[("id", &job.to_string())]).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text());
    let again = admin.call_fn("/fn/retry_job", &[("id", &job.to_string())]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "only failed jobs are retried");
    let retried = admin.call_fn("/fn/retry_webhook", &[("id", &event.to_string())]).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text());
    let data = admin.call_fn("/fn/admin_data", &[("search", "")]).await.json();
    let statuses: Vec<&str> = data["jobs"].as_array().unwrap().iter().map(|j| j["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "queued").count(), 2, "{statuses:?}");
    assert_eq!(data["webhook_events"][0]["status"], "pending");
}

async fn reports_without_javascript(app: TestApp) {
    let (mut c, _) = signed_in(&app, "nojs@example.com", Role::User).await;
    let back = c
        .submit_form(
            "/fn/export_report",
            "/reports",
            &[("kind", "my_posts"), ("format", "csv"), ("from", ""), ("to", "")],
        )
        .await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.text());
    let page = c.get_page("/reports").await.text();
    assert!(page.contains("data-testid=\"report-list\"") && page.contains("/download"), "the export is listed");
    let bad = c.call_fn("/fn/export_report", &[("kind", "site_stats"), ("format", "csv")]).await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
}

on_both_databases!(
    settings_change_the_profile_and_show_billing,
    notifications_are_listed_and_marked_read,
    the_admin_page_lists_and_retries_failed_work,
    reports_without_javascript
);

#[tokio::test]
async fn settings_offer_the_configured_upgrade_link() {
    let app = TestApp::sqlite_with(&[("QUIRE_STRIPE_CHECKOUT_URL", "https://buy.stripe.com/test_123")]).await;
    let (mut c, user) = signed_in(&app, "upgrade@example.com", Role::User).await;
    let billing = c.call_fn("/fn/my_billing", &[]).await.json();
    assert_eq!(billing["upgrade_url"], format!("https://buy.stripe.com/test_123?client_reference_id={}", user.id));
}
