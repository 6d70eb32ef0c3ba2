//! Reading, commenting and liking through the real router: pages and server functions.

use crate::common;

use axum::http::StatusCode;
use common::TestApp;
use quire::{
    models::{validation::NewAccount, PostContent, Role, User},
    services::{accounts, posts},
};

async fn account(app: &TestApp, email: &str) -> User {
    accounts::register(
        app.db(),
        NewAccount::parse(email, email.split('@').next().unwrap(), "password123").unwrap(),
        Role::User,
    )
    .await
    .unwrap()
}

async fn published(app: &TestApp, author: &User, title: &str, body: &str) -> quire::models::Post {
    let p = posts::create(app.db(), author, PostContent::parse(title, body, "tech", "rust").unwrap()).await.unwrap();
    posts::publish(app.db(), app.bus(), author, p.id).await.unwrap()
}

async fn the_front_page_lists_published_posts_and_searches(app: TestApp) {
    let author = account(&app, "writer@example.com").await;
    published(&app, &author, "Hello Quire", "A body about *marmalade*.").await;
    posts::create(app.db(), &author, PostContent::parse("Secret draft", "hidden", "tech", "").unwrap()).await.unwrap();

    let mut c = app.client();
    let home = c.get_page("/").await.text();
    assert!(home.contains("Hello Quire"));
    assert!(!home.contains("Secret draft"));
    assert!(c.get_page("/?q=marmalade").await.text().contains("Hello Quire"));
    assert!(!c.get_page("/?q=nothingmatches").await.text().contains("Hello Quire"));
    assert!(c.get_page("/?tag=rust").await.text().contains("Hello Quire"));
    assert!(!c.get_page("/?category=business").await.text().contains("Hello Quire"));
}

async fn a_post_page_renders_sanitised_markdown_and_drafts_are_404_to_others(app: TestApp) {
    let author = account(&app, "a@example.com").await;
    let body = "# Heading\n\n<script>alert(1)</script>\n\n<img src=x onerror=\"alert(2)\">\n\n[x](javascript:alert(3))";
    let post = published(&app, &author, "Unsafe body", body).await;
    let page = app.client().get_page(&format!("/posts/{}", post.slug)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("<h1>Heading</h1>"));
    // The rendered body holds nothing that runs…
    let start = html.find("class=\"prose\"").unwrap();
    let article = &html[start..start + html[start..].find("</div>").unwrap()];
    for bad in ["<script", "onerror", "javascript:"] {
        assert!(!article.contains(bad), "{bad} rendered in {article}");
    }
    // …and the raw Markdown travels to the browser only as escaped JSON data.
    assert!(!html.contains("<script>alert(1)"));
    assert!(!html.contains("<img src=x onerror"));

    let draft = posts::create(app.db(), &author, PostContent::parse("Draft", "d", "tech", "").unwrap()).await.unwrap();
    let missing = app.client().get_page(&format!("/posts/{}", draft.slug)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("Page not found"));
}

async fn readers_comment_and_like_through_server_functions(app: TestApp) {
    let author = account(&app, "b@example.com").await;
    let post = published(&app, &author, "Discuss", "Body").await;
    common::register(&app, "reader@example.com", "Reader", "password123").await;
    let mut c = app.client();
    c.call_fn("/fn/login", &[("email", "reader@example.com"), ("password", "password123"), ("next", "")]).await;

    let id = post.id.to_string();
    let empty = c.call_fn("/fn/add_comment", &[("post_id", &id), ("body", "   ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = c.call_fn("/fn/add_comment", &[("post_id", &id), ("body", "Nice post")]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let liked = c.call_fn("/fn/set_like", &[("post_id", &id), ("liked", "true")]).await;
    assert_eq!(liked.json()["likes"], 1);
    assert_eq!(liked.json()["liked_by_me"], true);

    let view = c.call_fn("/fn/get_post", &[("slug", &post.slug)]).await.json();
    assert_eq!(view["stats"]["comments"], 1);
    assert_eq!(view["comments"]["items"][0]["body"], "Nice post");
    assert_eq!(view["comments"]["total"], 1);

    // Without JavaScript: a plain form post goes back to the page, which shows the comment.
    let back = c
        .submit_form("/fn/add_comment", &format!("/posts/{}", post.slug), &[("post_id", &id), ("body", "From a form")])
        .await;
    assert_eq!(back.status, StatusCode::FOUND);
    let page = c.get_page(&format!("/posts/{}", post.slug)).await.text();
    assert!(page.contains("From a form"));
    // The comment list is written as HTML text: markup in a comment stays text.
    c.call_fn("/fn/add_comment", &[("post_id", &id), ("body", "<b>bold</b> & <script>x()</script>")]).await;
    let page = c.get_page(&format!("/posts/{}", post.slug)).await.text();
    assert!(page.contains("&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;"), "escaped in the list");
    assert!(!page.contains("<b>bold</b>") && !page.contains("<script>x()"));
    // A refused plain post comes back to the page with the field's message under the field.
    let refused =
        c.submit_form("/fn/add_comment", &format!("/posts/{}", post.slug), &[("post_id", &id), ("body", " ")]).await;
    assert_eq!(refused.status, StatusCode::FOUND);
    let location = refused.header("location").unwrap().trim_start_matches("http://quire.test").to_string();
    assert!(location.contains("__err="), "{location}");
    let page = c.get_page(&location).await.text();
    assert!(page.contains(r#"<p class="field-error" id="body-error">"#), "the error is shown after the redirect");
    // The page's islands (badge, like, comments) take no props, so their code needs no JSON
    // parser: what the comments island needs is in the page, and the markup is the server's.
    assert!(page.contains(r#"data-component="LiveComments"#) && page.contains(r#"data-component="LiveLike"#), "{page}");
    assert!(!page.contains("data-props"), "no island props on the post page");
    assert!(page.contains(&format!(r#"id="comments-view" data-post-id="{id}""#)));

    // Signed out, comments and likes are refused.
    let anon = app.client().call_fn("/fn/set_like", &[("post_id", &id), ("liked", "true")]).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}

on_both_databases!(
    the_front_page_lists_published_posts_and_searches,
    a_post_page_renders_sanitised_markdown_and_drafts_are_404_to_others,
    readers_comment_and_like_through_server_functions,
);

async fn writing_through_the_editor_server_functions(app: TestApp) {
    common::register(&app, "ed@example.com", "Ed", "password123").await;
    let mut c = app.client();
    c.call_fn("/fn/login", &[("email", "ed@example.com"), ("password", "password123"), ("next", "")]).await;

    let bad = c.call_fn("/fn/create_post", &[("title", ""), ("body", "x"), ("category", "food"), ("tags", "")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = c
        .call_fn("/fn/create_post", &[("title", "My First"), ("body", "Hello"), ("category", "tech"), ("tags", "a, b")])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.header("location"), Some("/dashboard"));
    let mine = c.call_fn("/fn/my_posts", &[]).await.json();
    let id = mine["items"][0]["id"].to_string();
    assert_eq!(mine["items"][0]["published"], false);
    assert_eq!(mine["next_cursor"], serde_json::Value::Null);

    let saved = c
        .call_fn(
            "/fn/update_post",
            &[
                ("id", &id),
                ("version", "1"),
                ("title", "My First"),
                ("body", "Edited"),
                ("category", "tech"),
                ("tags", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let stale = c
        .call_fn(
            "/fn/update_post",
            &[("id", &id), ("version", "1"), ("title", "Old"), ("body", "Lost"), ("category", "tech"), ("tags", "")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.json()["message"].as_str().unwrap().contains("version 2"));

    // Without JavaScript the editor is a plain form; a refused save comes back to it with why.
    let editor = c.get_page("/dashboard/posts/new").await.text();
    assert!(editor.contains(r#"<form method="post" action="/fn/create_post" id="editor-form""#), "{editor}");
    assert!(editor.contains(r#"data-component="LiveEditor"#) && !editor.contains("data-props"), "{editor}");
    let bad = [("title", " "), ("body", "x"), ("category", "food"), ("tags", "")];
    let refused = c.submit_form("/fn/create_post", "/dashboard/posts/new", &bad).await;
    assert_eq!(refused.status, StatusCode::FOUND);
    let back = refused.header("location").unwrap().trim_start_matches("http://quire.test").to_string();
    let page = c.get_page(&back).await.text();
    assert!(page.contains(r#"<p class="field-error" id="title-error">"#), "{page}");
    assert!(page.contains(r#"<p class="field-error" id="category-error">"#), "{page}");
    let edit_page = format!("/dashboard/posts/{id}/edit");
    let edit = c.get_page(&edit_page).await.text();
    assert!(edit.contains(r#"<input type="hidden" name="version" value="2""#), "{edit}");
    let stale_form =
        [("id", id.as_str()), ("version", "1"), ("title", "Old"), ("body", "Lost"), ("category", "tech"), ("tags", "")];
    let refused = c.submit_form("/fn/update_post", &edit_page, &stale_form).await;
    let back = refused.header("location").unwrap().trim_start_matches("http://quire.test").to_string();
    let page = c.get_page(&back).await.text();
    assert!(page.contains(r#"data-testid="conflict""#) && page.contains("version 2"), "{page}");
    assert!(page.contains(&format!(r#"<a href="{edit_page}" rel="external">Reload the newer version</a>"#)));

    assert_eq!(c.call_fn("/fn/publish_post", &[("id", &id)]).await.status, StatusCode::OK);
    assert!(c.get_page("/").await.text().contains("My First"));
    let mut stranger = app.client();
    assert_eq!(stranger.call_fn("/fn/delete_post", &[("id", &id)]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(c.call_fn("/fn/delete_post", &[("id", &id)]).await.status, StatusCode::OK);
    assert!(!c.get_page("/").await.text().contains("My First"));
}

on_both_databases!(writing_through_the_editor_server_functions);

/// The dashboard shows fifty posts a page, newest change first, with plain links between pages
/// (it loaded every post the writer had, with their tags, in one page: 10 s at 27,000 posts).
async fn the_dashboard_pages_a_long_list(app: TestApp) {
    let writer = account(&app, "many@example.com").await;
    for i in 0..55 {
        posts::create(app.db(), &writer, PostContent::parse(&format!("Entry {i:02}"), "Body", "tech", "").unwrap())
            .await
            .unwrap();
    }
    let mut c = app.client();
    c.call_fn("/fn/login", &[("email", "many@example.com"), ("password", "password123"), ("next", "")]).await;

    let first = c.get_page("/dashboard").await;
    assert_eq!(first.status, StatusCode::OK);
    let html = first.text();
    assert_eq!(html.matches("<tr data-post-id").count(), 50);
    assert!(html.contains("Entry 54") && !html.contains("Entry 04"), "newest first");
    let older = html.split("data-testid=\"older-posts\"").next().and_then(|h| h.rsplit("href=\"").next()).unwrap();
    let older = older.split('"').next().unwrap().replace("&amp;", "&");
    assert!(older.starts_with("/dashboard?cursor="), "{older}");

    let second = c.get_page(&older).await.text();
    assert_eq!(second.matches("<tr data-post-id").count(), 5);
    assert!(second.contains("Entry 04") && second.contains("Entry 00") && !second.contains("Entry 05"));
    assert!(!second.contains("older-posts"));

    let more = c.call_fn("/fn/my_posts", &[("cursor", older.trim_start_matches("/dashboard?cursor="))]).await.json();
    assert_eq!(more["items"].as_array().unwrap().len(), 5);
    let bad = c.get_page("/dashboard?cursor=not-a-cursor").await;
    assert_eq!(bad.status, StatusCode::OK, "the page renders, with the problem in place of the list");
    assert!(bad.text().contains("The cursor is not valid"));
    assert_eq!(c.call_fn("/fn/my_posts", &[("cursor", "\0")]).await.status, StatusCode::BAD_REQUEST);

    // Without JavaScript: the row forms post and come back; a refusal (the free plan's three
    // published posts) is shown above the list after the redirect.
    let ids: Vec<String> = more["items"].as_array().unwrap().iter().map(|p| p["id"].to_string()).collect();
    for id in &ids[..3] {
        let back = c.submit_form("/fn/publish_post", "/dashboard", &[("id", id)]).await;
        assert_eq!(back.status, StatusCode::FOUND, "{}", back.text());
    }
    let refused = c.submit_form("/fn/publish_post", "/dashboard", &[("id", &ids[3])]).await;
    let location = refused.header("location").unwrap().trim_start_matches("http://quire.test").to_string();
    assert!(location.contains("__err="), "{location}");
    let page = c.get_page(&location).await.text();
    assert!(
        page.contains(r#"<div class="list-error"><p class="form-error" role="alert">"#),
        "shown after the redirect"
    );
    assert_eq!(page.matches(">Published<").count(), 3);
}

on_both_databases!(the_dashboard_pages_a_long_list);
