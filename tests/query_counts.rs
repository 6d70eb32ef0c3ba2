//! No N+1: a page costs the same small number of queries however many items it shows.
//! (One test in this binary, so the process-wide statement counter sees only it.)

#[path = "it/common/mod.rs"]
mod common;

use common::TestApp;
use quire::{
    db::statements_executed,
    models::{post::CommentBody, validation::NewAccount, PostContent, Role},
    services::{accounts, comments, posts, seed},
};

async fn queries_for(app: &TestApp, path: &str) -> u64 {
    let mut c = app.client();
    let before = statements_executed();
    let res = c.get_page(path).await;
    assert_eq!(res.status, axum::http::StatusCode::OK, "{path}");
    statements_executed() - before
}

#[tokio::test]
async fn pages_cost_a_fixed_number_of_queries() {
    let app = TestApp::sqlite().await;
    seed::run(app.db(), 60).await.unwrap();

    // The front page: 20 posts or 2 posts, the same queries.
    let full = queries_for(&app, "/").await;
    let few = queries_for(&app, "/?tag=no-such-tag").await;
    assert_eq!(full, few + 1, "an empty page skips only the tag look-up");
    assert!(full <= 3, "front page used {full} queries");

    // A post page: no comments or many, the same queries.
    let author =
        accounts::register(app.db(), NewAccount::parse("q@example.com", "Q", "password123").unwrap(), Role::User)
            .await
            .unwrap();
    let quiet =
        posts::create(app.db(), &author, PostContent::parse("Quiet", "Body", "tech", "a").unwrap()).await.unwrap();
    let busy =
        posts::create(app.db(), &author, PostContent::parse("Busy", "Body", "tech", "a,b,c").unwrap()).await.unwrap();
    for p in [&quiet, &busy] {
        posts::publish(app.db(), app.bus(), &author, p.id).await.unwrap();
    }
    for i in 0..15 {
        comments::add(app.db(), app.bus(), &author, busy.id, &CommentBody::parse(&format!("comment {i}")).unwrap())
            .await
            .unwrap();
    }
    let q = queries_for(&app, &format!("/posts/{}", quiet.slug)).await;
    let b = queries_for(&app, &format!("/posts/{}", busy.slug)).await;
    assert_eq!(q, b);
    assert!(b <= 6, "post page used {b} queries");
    println!("queries per render: front page {full}, post page {b} (anonymous; a signed-in visitor adds one user look-up per read of the session)");

    // Creating a post costs the same statements however many posts share its title (the slug
    // is numbered by a counter, not by reading every `title-<n>` taken so far).
    let same = || PostContent::parse("Same title", "Body", "tech", "").unwrap();
    let mut costs = Vec::new();
    for _ in 0..40 {
        let before = statements_executed();
        let post = posts::create(app.db(), &author, same()).await.unwrap();
        costs.push((statements_executed() - before, post.slug));
    }
    assert_eq!(costs[0].1, "same-title");
    assert_eq!(costs[39].1, "same-title-40");
    assert!(costs.iter().skip(1).all(|(n, _)| *n == costs[1].0), "{costs:?}");
    assert!(costs[1].0 <= 3, "a create costs {} statements", costs[1].0);
    // A title whose slugs exist from before the counter (seeded data) costs one scan, once.
    let seeded =
        posts::create(app.db(), &author, PostContent::parse("Quiet", "Again", "tech", "").unwrap()).await.unwrap();
    assert_eq!(seeded.slug, "quiet-2");

    // A signed-in page behind RequireUser: the dashboard of a writer with no posts and of one
    // with 43, the same queries (the page and its list are built once, not once per check
    // Suspense makes for pending loads).
    let signed_in = |email: &'static str| {
        let app = &app;
        async move {
            let mut c = app.client();
            let res = c.call_fn("/fn/login", &[("email", email), ("password", "password123")]).await;
            assert!(res.status.is_success() || res.status.is_redirection(), "{}", res.text());
            let before = statements_executed();
            let res = c.get_page("/dashboard").await;
            assert_eq!(res.status, axum::http::StatusCode::OK);
            assert!(res.text().contains("data-testid=\"current-user\""), "{}", res.text());
            statements_executed() - before
        }
    };
    accounts::register(app.db(), NewAccount::parse("new@example.com", "New", "password123").unwrap(), Role::User)
        .await
        .unwrap();
    let empty = signed_in("new@example.com").await;
    let busy = signed_in("q@example.com").await;
    assert_eq!(empty, busy, "dashboard: {empty} queries with no posts, {busy} with 43");
    assert!(busy <= 4, "dashboard used {busy} queries");
    println!("dashboard: {busy} queries");
}
