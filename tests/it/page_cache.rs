//! The server cache of public pages: anonymous visitors share a render until public content
//! changes; each answer still carries a CSP nonce of its own; signed-in visitors are never
//! answered from, nor stored in, it.

use crate::common;

use axum::http::{Method, StatusCode};
use common::{browser, new_post, user_with_token, TestApp};

/// The nonce the policy header allows, and every nonce attribute in the page.
fn nonces(res: &common::TestResponse) -> (String, Vec<String>) {
    let csp = res.header("content-security-policy").expect("a page has a policy");
    let allowed = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce in the policy");
    let text = res.text();
    let in_page: Vec<String> =
        text.split("nonce=\"").skip(1).map(|r| r.split('"').next().unwrap_or("").to_string()).collect();
    (allowed.to_string(), in_page)
}

async fn anonymous_visitors_share_a_render_with_a_nonce_each(app: TestApp) {
    let (_, token) = user_with_token(&app, "writer@example.com").await;
    new_post(&app, &token, "Cached front page", &["rust"], true).await;

    let first = app.client().get_page("/").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("x-cache"), Some("MISS"));
    let second = app.client().get_page("/").await;
    assert_eq!(second.header("x-cache"), Some("HIT"));
    assert!(second.text().contains("Cached front page"));

    let (a, in_a) = nonces(&first);
    let (b, in_b) = nonces(&second);
    assert_ne!(a, b, "each answer has its own nonce");
    assert!(!in_b.is_empty(), "the page's scripts carry the nonce");
    assert!(in_a.iter().all(|n| *n == a) && in_b.iter().all(|n| *n == b), "{in_a:?} / {in_b:?}");
    assert!(!second.text().contains(&a), "the rendered nonce does not leak into a later answer");
    // Apart from the nonce, the same page.
    assert_eq!(first.text().replace(&a, "N"), second.text().replace(&b, "N"));
    // Queries are pages of their own.
    assert_eq!(app.client().get_page("/?tag=rust").await.header("x-cache"), Some("MISS"));
    assert_eq!(app.client().get_page("/?tag=rust").await.header("x-cache"), Some("HIT"));
}

async fn a_public_write_refreshes_the_pages_at_once(app: TestApp) {
    let (_, token) = user_with_token(&app, "writer@example.com").await;
    let post = new_post(&app, &token, "First post", &[], true).await;
    let slug = post["slug"].as_str().unwrap().to_string();
    let page = format!("/posts/{slug}");
    for path in ["/", page.as_str()] {
        app.client().get_page(path).await;
        assert_eq!(app.client().get_page(path).await.header("x-cache"), Some("HIT"));
    }

    // A draft is seen by nobody else: the pages stay.
    new_post(&app, &token, "Quiet draft", &[], false).await;
    assert_eq!(app.client().get_page("/").await.header("x-cache"), Some("HIT"));

    // A new published post is on the front page at once.
    new_post(&app, &token, "Second post", &[], true).await;
    let home = app.client().get_page("/").await;
    assert_eq!(home.header("x-cache"), Some("MISS"));
    assert!(home.text().contains("Second post"));

    // A comment (REST) is on the post page at once.
    let res = app
        .client()
        .api(
            Method::POST,
            &format!("/api/v1/posts/{}/comments", post["id"]),
            Some(&token),
            Some(serde_json::json!({"body": "A fresh comment"})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let page = app.client().get_page(&page).await;
    assert_eq!(page.header("x-cache"), Some("MISS"));
    assert!(page.text().contains("A fresh comment"));
}

async fn signed_in_pages_are_neither_served_from_nor_kept_in_the_cache(app: TestApp) {
    let mut reader = browser(&app, "reader@example.com").await;
    for _ in 0..2 {
        let home = reader.get_page("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert_eq!(home.header("x-cache"), None);
        assert!(home.text().contains("reader"), "the header names who is signed in");
    }
    // The first anonymous visit after them renders anew and shows nobody's name.
    let anonymous = app.client().get_page("/").await;
    assert_eq!(anonymous.header("x-cache"), Some("MISS"));
    assert!(!anonymous.text().contains("reader@example.com"));
    assert!(anonymous.text().contains("Sign in"));
    // Nor are pages for a bearer token, or answers that are not pages.
    let (_, token) = user_with_token(&app, "writer@example.com").await;
    let res = app.client().api(Method::GET, "/", Some(&token), None, &[("accept", "text/html")]).await;
    assert_eq!(res.header("x-cache"), None);
    assert_eq!(app.client().get_page("/posts/no-such-post").await.header("x-cache"), None);
    assert_eq!(app.client().get_page("/login").await.header("x-cache"), None);
}

/// Server functions that change nothing public are marked where they are declared
/// (`KeepsPublicCache`); every other one that succeeds refreshes the pages.
async fn server_functions_that_change_nothing_public_keep_the_pages(app: TestApp) {
    let (_, token) = user_with_token(&app, "writer@example.com").await;
    let post = new_post(&app, &token, "Kept page", &[], true).await;
    app.client().get_page("/").await;
    assert_eq!(app.client().get_page("/").await.header("x-cache"), Some("HIT"));

    let mut reader = browser(&app, "reader@example.com").await;
    for (path, form) in [
        ("/fn/list_posts", vec![]),
        ("/fn/current_user", vec![]),
        ("/fn/unread_count", vec![]),
        ("/fn/my_tokens", vec![]),
        ("/fn/create_token", vec![("name", "ci"), ("read", "on"), ("expires_in_days", "30")]),
    ] {
        let res = reader.call_fn(path, &form).await;
        assert!(res.status.is_success(), "{path}: {} {}", res.status, res.text());
        assert_eq!(app.client().get_page("/").await.header("x-cache"), Some("HIT"), "after {path}");
    }

    // A comment is public: the next visitor gets a fresh render.
    let id = post["id"].to_string();
    let res = reader.call_fn("/fn/add_comment", &[("post_id", id.as_str()), ("body", "Seen by all")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_eq!(app.client().get_page("/").await.header("x-cache"), Some("MISS"));
}

on_both_databases!(
    server_functions_that_change_nothing_public_keep_the_pages,
    anonymous_visitors_share_a_render_with_a_nonce_each,
    a_public_write_refreshes_the_pages_at_once,
    signed_in_pages_are_neither_served_from_nor_kept_in_the_cache,
);

#[tokio::test]
async fn quire_page_cache_off_renders_every_page() {
    let app = TestApp::sqlite_with(&[("QUIRE_PAGE_CACHE", "off")]).await;
    for _ in 0..2 {
        let res = app.client().get_page("/").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header("x-cache"), None);
    }
}
