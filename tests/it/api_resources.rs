//! The REST API's resources through the real router, on SQLite and PostgreSQL: posts
//! (cursor pages, filters, ETags and conditional writes), comments, likes, tags and users.
//! (Tokens and uploads: `api_tokens_uploads`.)

use crate::common;

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use common::{admin_with_token, new_post, user_with_token, TestApp};
use serde_json::{json, Value};

/// Lifts the free plan's limit of three published posts for `user` (an admin's PATCH).
async fn make_pro(app: &TestApp, admin_token: &str, user: &Value) {
    let res = app
        .client()
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", user["id"]),
            Some(admin_token),
            Some(json!({"plan": "pro"})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["plan"], "pro");
}

async fn a_post_has_an_etag_and_writes_need_if_match(app: TestApp) {
    let (_, token) = user_with_token(&app, "writer@example.com").await;
    let mut c = app.client();
    let res = c
        .api(
            Method::POST,
            "/api/v1/posts",
            Some(&token),
            Some(json!({"title": "Hello API", "body": "Some *Markdown*", "category": "tech", "tags": ["Rust", "web"]})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let post = res.json();
    let id = post["id"].as_i64().unwrap();
    assert_eq!(res.header("etag"), Some("\"1\""));
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/posts/{id}"));
    assert_eq!(post["slug"], "hello-api");
    assert_eq!(post["tags"], json!(["rust", "web"]));
    assert_eq!(post["published"], false);

    // A draft is invisible to others, visible to its author (privately cached).
    let path = format!("/api/v1/posts/{id}");
    app.client().get(&path).await.problem(404, "NOT_FOUND");
    let mine = c.api(Method::GET, &path, Some(&token), None, &[]).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.header("cache-control"), Some("private, no-cache"));
    let not_modified = c.api(Method::GET, &path, Some(&token), None, &[("if-none-match", "\"1\"")]).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("etag"), Some("\"1\""));

    // PATCH without If-Match: 428. With a stale one: 412 naming the current version.
    let patch = json!({"title": "Hello again"});
    c.api(Method::PATCH, &path, Some(&token), Some(patch.clone()), &[]).await.problem(428, "PRECONDITION_REQUIRED");
    let stale = c.api(Method::PATCH, &path, Some(&token), Some(patch.clone()), &[("if-match", "\"0\"")]).await;
    assert_eq!(stale.problem(412, "PRECONDITION_FAILED")["current_version"], 1);
    let ok = c.api(Method::PATCH, &path, Some(&token), Some(patch), &[("if-match", "\"1\"")]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.header("etag"), Some("\"2\""));
    assert_eq!(ok.json()["title"], "Hello again");
    assert_eq!(ok.json()["body"], "Some *Markdown*", "PATCH keeps fields it was not given");

    // PUT replaces the content and may publish in the same step.
    let put = json!({"title": "Replaced", "body": "New body", "category": "business", "published": true});
    c.api(Method::PUT, &path, Some(&token), Some(put.clone()), &[("if-match", "\"1\"")])
        .await
        .problem(412, "PRECONDITION_FAILED");
    let replaced = c.api(Method::PUT, &path, Some(&token), Some(put), &[("if-match", "W/\"2\"")]).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    let body = replaced.json();
    assert_eq!(
        (body["category"].as_str(), body["published"].as_bool(), body["tags"].as_array().map(Vec::len)),
        (Some("business"), Some(true), Some(0))
    );

    // Now public: anyone reads it, and it may be cached publicly.
    let public = app.client().get(&path).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(public.header("cache-control"), Some("public, s-maxage=60, stale-while-revalidate=300"));
    let etag = public.header("etag").unwrap().to_string();
    let again = app.client().api(Method::GET, &path, None, None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    // Someone else may read but not change it.
    let (_, other) = user_with_token(&app, "other@example.com").await;
    let res = app
        .client()
        .api(Method::PATCH, &path, Some(&other), Some(json!({"title": "Mine"})), &[("if-match", &etag)])
        .await;
    res.problem(403, "FORBIDDEN");
    app.client().api(Method::DELETE, &path, Some(&other), None, &[]).await.problem(403, "FORBIDDEN");

    let gone = c.api(Method::DELETE, &path, Some(&token), None, &[]).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    app.client().get(&path).await.problem(404, "NOT_FOUND");
    app.client().get("/api/v1/posts/abc").await.problem(400, "BAD_REQUEST");
}

async fn a_cursor_walk_visits_every_post_once(app: TestApp) {
    let (user, token) = user_with_token(&app, "prolific@example.com").await;
    let (_, admin) = admin_with_token(&app, "admin@example.com").await;
    make_pro(&app, &admin, &user).await;
    let mut created = HashSet::new();
    for i in 0..25 {
        created.insert(new_post(&app, &token, &format!("Post number {i}"), &[], true).await["id"].as_i64().unwrap());
    }
    new_post(&app, &token, "A draft", &[], false).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/posts?limit=10&cursor={c}"),
            None => "/api/v1/posts?limit=10".to_string(),
        };
        let page = app.client().get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let body = page.json();
        pages += 1;
        let ids: Vec<i64> = body["data"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
        seen.extend(ids);
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "the walk must end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25, "no duplicates, no gaps");
    assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), created);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");

    // The v2 envelope over the same data.
    let v2 = app.client().get("/api/v2/posts?limit=20").await.json();
    assert_eq!(v2["items"].as_array().unwrap().len(), 20);
    assert_eq!(v2["page_info"]["has_more"], true);
    assert!(v2["page_info"]["next_cursor"].is_string());

    // The author's drafts, only for them.
    app.client().get("/api/v1/posts?status=draft").await.problem(401, "UNAUTHORIZED");
    let drafts = app.client().api(Method::GET, "/api/v1/posts?status=draft", Some(&token), None, &[]).await.json();
    assert_eq!(drafts["data"].as_array().unwrap().len(), 1);
    assert_eq!(drafts["data"][0]["title"], "A draft");
    let (_, stranger) = user_with_token(&app, "stranger@example.com").await;
    let none = app.client().api(Method::GET, "/api/v1/posts?status=draft", Some(&stranger), None, &[]).await.json();
    assert_eq!(none["data"], json!([]));
}

async fn lists_filter_by_tags_category_author_and_text(app: TestApp) {
    let (ann, ann_token) = user_with_token(&app, "ann@example.com").await;
    let (_, bob_token) = user_with_token(&app, "bob@example.com").await;
    new_post(&app, &ann_token, "Only a", &["a"], true).await;
    let both = new_post(&app, &ann_token, "Both tags about ferrets", &["a", "b"], true).await;
    new_post(&app, &bob_token, "Only b", &["b"], true).await;

    let titles = |v: Value| -> Vec<String> {
        v["data"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_string()).collect()
    };
    let mut c = app.client();
    assert_eq!(titles(c.get("/api/v1/posts?tag=a&tag=b").await.json()), ["Both tags about ferrets"]);
    assert_eq!(titles(c.get("/api/v1/posts?tag=a").await.json()).len(), 2);
    assert_eq!(titles(c.get(&format!("/api/v1/posts?author={}", ann["id"])).await.json()).len(), 2);
    assert_eq!(titles(c.get("/api/v1/posts?q=ferrets").await.json()), ["Both tags about ferrets"]);
    assert_eq!(titles(c.get("/api/v1/posts?category=business").await.json()).len(), 0);
    assert_eq!(titles(c.get("/api/v1/posts?q=ferrets&tag=b").await.json()).len(), 1);

    // Tags with counts of published posts.
    let tags = c.get("/api/v1/tags").await.json();
    assert_eq!(tags["data"], json!([{"name": "a", "posts": 2}, {"name": "b", "posts": 2}]));

    // Bad query values are 400s that name the problem.
    for bad in [
        "/api/v1/posts?limit=0",
        "/api/v1/posts?limit=101",
        "/api/v1/posts?limit=ten",
        "/api/v1/posts?cursor=not-a-cursor",
        "/api/v1/posts?category=cooking",
        "/api/v1/posts?author=-1",
        "/api/v1/posts?status=deleted",
    ] {
        c.get(bad).await.problem(400, "BAD_REQUEST");
    }
    let _ = both;
}

async fn comments_and_likes_work_through_the_api(app: TestApp) {
    let (_, author) = user_with_token(&app, "author@example.com").await;
    let (_, reader) = user_with_token(&app, "reader@example.com").await;
    let post = new_post(&app, &author, "Discuss", &[], true).await;
    let id = post["id"].as_i64().unwrap();
    let mut c = app.client();

    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/posts/{id}/comments"),
            Some(&reader),
            Some(json!({"body": "  First!  "})),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let comment = res.json();
    assert_eq!(comment["body"], "First!");
    c.api(Method::POST, &format!("/api/v1/posts/{id}/comments"), Some(&reader), Some(json!({"body": " "})), &[])
        .await
        .problem(422, "VALIDATION_ERROR");
    c.api(Method::POST, &format!("/api/v1/posts/{id}/comments"), None, Some(json!({"body": "anon"})), &[])
        .await
        .problem(401, "UNAUTHORIZED");
    let list = c.get(&format!("/api/v1/posts/{id}/comments")).await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    c.get("/api/v1/posts/999999/comments").await.problem(404, "NOT_FOUND");

    // Likes are idempotent both ways.
    let like = format!("/api/v1/posts/{id}/like");
    for _ in 0..2 {
        let res = c.api(Method::PUT, &like, Some(&reader), None, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json(), json!({"likes": 1, "comments": 1, "liked_by_me": true}));
    }
    for _ in 0..2 {
        let res = c.api(Method::DELETE, &like, Some(&reader), None, &[]).await;
        assert_eq!(res.json()["likes"], 0);
    }

    // Only the comment's author (or an admin) deletes it.
    let cpath = format!("/api/v1/comments/{}", comment["id"]);
    c.api(Method::DELETE, &cpath, Some(&author), None, &[]).await.problem(403, "FORBIDDEN");
    assert_eq!(c.api(Method::DELETE, &cpath, Some(&reader), None, &[]).await.status, StatusCode::NO_CONTENT);
    c.api(Method::DELETE, &cpath, Some(&reader), None, &[]).await.problem(404, "NOT_FOUND");
}

async fn users_are_listed_by_admins_and_changed_by_themselves(app: TestApp) {
    let (admin, admin_token) = admin_with_token(&app, "root@example.com").await;
    let (me, token) = user_with_token(&app, "zed@example.com").await;
    for (email, name) in [("amy@example.com", "Amy"), ("bea@example.com", "Bea"), ("cy@example.com", "Cy")] {
        common::register(&app, email, name, "password123").await;
    }
    let mut c = app.client();
    c.api(Method::GET, "/api/v1/users", Some(&token), None, &[]).await.problem(403, "FORBIDDEN");
    let page =
        c.api(Method::GET, "/api/v1/users?limit=2&page=2&sort=name&order=asc", Some(&admin_token), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let body = page.json();
    assert_eq!(body["pagination"], json!({"page": 2, "limit": 2, "total": 5, "total_pages": 3}));
    let names: Vec<&str> = body["data"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bea", "Cy"]);
    assert!(body["data"][0].get("password_hash").is_none());
    let found = c.api(Method::GET, "/api/v1/users?search=BEA", Some(&admin_token), None, &[]).await.json();
    assert_eq!(found["pagination"]["total"], 1);
    for bad in ["?page=0", "?page=-1", "?limit=0", "?sort=password", "?order=sideways"] {
        c.api(Method::GET, &format!("/api/v1/users{bad}"), Some(&admin_token), None, &[])
            .await
            .problem(400, "BAD_REQUEST");
    }

    // Themselves: read and change the profile, but not the role or plan.
    let mine = format!("/api/v1/users/{}", me["id"]);
    assert_eq!(c.api(Method::GET, &mine, Some(&token), None, &[]).await.status, StatusCode::OK);
    c.api(Method::GET, &format!("/api/v1/users/{}", admin["id"]), Some(&token), None, &[])
        .await
        .problem(403, "FORBIDDEN");
    let changed = c
        .api(
            Method::PATCH,
            &mine,
            Some(&token),
            Some(json!({"name": "Zed Z", "github_repo": "Quire/Releases", "avatar_url": "https://img.test/z.png"})),
            &[],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(changed.json()["github_repo"], "quire/releases");
    let bad = c
        .api(
            Method::PATCH,
            &mine,
            Some(&token),
            Some(json!({"avatar_url": "javascript:alert(1)", "github_repo": "nope"})),
            &[],
        )
        .await;
    assert_eq!(bad.problem(422, "VALIDATION_ERROR")["errors"].as_array().unwrap().len(), 2);
    c.api(Method::PATCH, &mine, Some(&token), Some(json!({"role": "admin"})), &[]).await.problem(403, "FORBIDDEN");
    c.api(Method::PATCH, &mine, Some(&token), Some(json!({"name": "x", "password_hash": "y"})), &[])
        .await
        .problem(400, "BAD_REQUEST");
    let stale =
        c.api(Method::PATCH, &mine, Some(&token), Some(json!({"name": "Late"})), &[("if-match", "\"1\"")]).await;
    assert_eq!(stale.problem(412, "PRECONDITION_FAILED")["current_version"], 2);
    let cleared = c.api(Method::PATCH, &mine, Some(&token), Some(json!({"avatar_url": null})), &[]).await.json();
    assert_eq!(cleared["avatar_url"], Value::Null);

    // An admin changes roles and creates accounts.
    let promoted = c.api(Method::PATCH, &mine, Some(&admin_token), Some(json!({"role": "admin"})), &[]).await;
    assert_eq!(promoted.json()["role"], "admin");
    let created = c
        .api(
            Method::POST,
            "/api/v1/users",
            Some(&admin_token),
            Some(json!({"email": "new@example.com", "name": "New", "password": "password123", "plan": "pro"})),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["plan"], "pro");

    // Deleting yourself ends your tokens too.
    assert_eq!(c.api(Method::DELETE, &mine, Some(&token), None, &[]).await.status, StatusCode::NO_CONTENT);
    c.api(Method::GET, "/api/v1/me", Some(&token), None, &[]).await.problem(401, "UNAUTHORIZED");
}

on_both_databases!(
    a_post_has_an_etag_and_writes_need_if_match,
    a_cursor_walk_visits_every_post_once,
    lists_filter_by_tags_category_author_and_text,
    comments_and_likes_work_through_the_api,
    users_are_listed_by_admins_and_changed_by_themselves,
);
