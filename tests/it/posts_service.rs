//! The publishing rules at the service level, on SQLite and PostgreSQL: slugs, optimistic
//! locking, authorization, the free plan's limit, the audit log and full-text search.

use crate::common;

use common::TestApp;
use quire::{
    db::{self, Db},
    models::{validation::NewAccount, ErrorCode, PostContent, Role, User},
    services::{accounts, posts},
};

async fn user(app: &TestApp, email: &str, role: Role) -> User {
    accounts::register(app.db(), NewAccount::parse(email, "Writer", "password123").unwrap(), role).await.unwrap()
}

fn content(title: &str, body: &str, tags: &str) -> PostContent {
    PostContent::parse(title, body, "tech", tags).unwrap()
}

async fn audit_actions(db: &Db, post_id: i64) -> Vec<String> {
    let mut conn = db.acquire().await.unwrap();
    db::audit::for_entity(conn.conn(), "post", post_id).await.unwrap().into_iter().map(|e| e.action).collect()
}

fn code(e: quire::error::Error) -> ErrorCode {
    e.code()
}

async fn slugs_are_unique_and_tags_normalised(app: TestApp) {
    let author = user(&app, "a@example.com", Role::User).await;
    let first = posts::create(app.db(), &author, content("Hello, World!", "Body", "Rust, rust, Web")).await.unwrap();
    let second = posts::create(app.db(), &author, content("Hello world", "Body", "")).await.unwrap();
    let third = posts::create(app.db(), &author, content("hello WORLD", "Body", "")).await.unwrap();
    assert_eq!(
        [first.slug.as_str(), second.slug.as_str(), third.slug.as_str()],
        ["hello-world", "hello-world-2", "hello-world-3"]
    );
    assert_eq!(first.tags, ["rust", "web"]);
    assert_eq!(first.version, 1);
    assert!(!first.published);
    assert_eq!(audit_actions(app.db(), first.id).await, ["post.create"]);
}

async fn a_stale_version_never_overwrites(app: TestApp) {
    let author = user(&app, "b@example.com", Role::User).await;
    let post = posts::create(app.db(), &author, content("Draft", "v1", "")).await.unwrap();
    let saved = posts::update(app.db(), &author, post.id, 1, content("Draft", "v2", "x")).await.unwrap();
    assert_eq!(saved.version, 2);
    assert_eq!(saved.tags, ["x"]);

    let stale = posts::update(app.db(), &author, post.id, 1, content("Draft", "lost edit", "")).await.unwrap_err();
    assert_eq!(code(stale), ErrorCode::Conflict);
    let mut conn = app.db().acquire().await.unwrap();
    let row = db::posts::find_by_id(conn.conn(), post.id).await.unwrap().unwrap();
    assert_eq!(row.body, "v2", "the newer save survives");
    assert_eq!(audit_actions(app.db(), post.id).await, ["post.create", "post.update"]);
}

async fn only_the_author_or_an_admin_changes_a_post(app: TestApp) {
    let author = user(&app, "c@example.com", Role::User).await;
    let other = user(&app, "d@example.com", Role::User).await;
    let admin = user(&app, "e@example.com", Role::Admin).await;
    let post = posts::create(app.db(), &author, content("Mine", "Body", "")).await.unwrap();

    // A draft does not exist for others; a published post is forbidden to them.
    assert_eq!(
        code(posts::update(app.db(), &other, post.id, 1, content("Theirs", "x", "")).await.unwrap_err()),
        ErrorCode::NotFound
    );
    assert_eq!(code(posts::get_by_slug(app.db(), Some(&other), &post.slug).await.unwrap_err()), ErrorCode::NotFound);
    assert_eq!(code(posts::get_by_slug(app.db(), None, &post.slug).await.unwrap_err()), ErrorCode::NotFound);
    assert!(posts::get_by_slug(app.db(), Some(&admin), &post.slug).await.is_ok());
    posts::publish(app.db(), app.bus(), &author, post.id).await.unwrap();
    assert_eq!(code(posts::delete(app.db(), &other, post.id).await.unwrap_err()), ErrorCode::Forbidden);
    assert!(posts::get_by_slug(app.db(), None, &post.slug).await.is_ok());

    posts::unpublish(app.db(), &admin, post.id).await.unwrap();
    posts::delete(app.db(), &admin, post.id).await.unwrap();
    assert_eq!(
        audit_actions(app.db(), post.id).await,
        ["post.create", "post.publish", "post.unpublish", "post.delete"]
    );
}

async fn the_free_plan_holds_three_published_posts(app: TestApp) {
    let author = user(&app, "f@example.com", Role::User).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(posts::create(app.db(), &author, content(&format!("Post {i}"), "Body", "")).await.unwrap().id);
    }
    for id in &ids[..3] {
        let p = posts::publish(app.db(), app.bus(), &author, *id).await.unwrap();
        assert!(p.published && p.published_at.is_some());
    }
    let refused = posts::publish(app.db(), app.bus(), &author, ids[3]).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    assert!(refused.public().message.contains("free plan"));

    // Unpublishing one makes room; a pro author has no limit.
    posts::unpublish(app.db(), &author, ids[0]).await.unwrap();
    posts::publish(app.db(), app.bus(), &author, ids[3]).await.unwrap();
    match app.db() {
        Db::Sqlite(p, ..) => {
            sqlx::query("UPDATE users SET plan = 'pro' WHERE id = $1").bind(author.id).execute(p).await.map(|_| ())
        }
        Db::Postgres(p) => {
            sqlx::query("UPDATE users SET plan = 'pro' WHERE id = $1").bind(author.id).execute(p).await.map(|_| ())
        }
    }
    .unwrap();
    let pro = accounts::find(app.db(), author.id).await.unwrap().unwrap();
    posts::publish(app.db(), app.bus(), &pro, ids[0]).await.unwrap();
}

async fn full_text_search_finds_words_in_the_body(app: TestApp) {
    let author = user(&app, "g@example.com", Role::User).await;
    let a =
        posts::create(app.db(), &author, content("Gardening notes", "Tomatoes need sunshine and patience.", "garden"))
            .await
            .unwrap();
    let b = posts::create(app.db(), &author, content("Sunshine everywhere", "A title match outranks the body.", ""))
        .await
        .unwrap();
    let hidden = posts::create(app.db(), &author, content("Secret", "sunshine in a draft", "")).await.unwrap();
    posts::publish(app.db(), app.bus(), &author, a.id).await.unwrap();
    posts::publish(app.db(), app.bus(), &author, b.id).await.unwrap();

    let found = posts::search(app.db(), "tomatoes", 10).await.unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [a.id]);
    assert_eq!(found[0].tags, ["garden"]);
    let ranked = posts::search(app.db(), "sunshine", 10).await.unwrap();
    let ids: Vec<_> = ranked.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), 2, "drafts are not searchable");
    assert!(!ids.contains(&hidden.id));
    assert_eq!(ids[0], b.id, "title matches rank first");

    // Edits are re-indexed; hostile query syntax is just words.
    posts::update(app.db(), &author, a.id, 2, content("Gardening notes", "Cucumbers now.", "")).await.unwrap();
    assert!(posts::search(app.db(), "tomatoes", 10).await.unwrap().is_empty());
    assert_eq!(posts::search(app.db(), "cucumbers", 10).await.unwrap().len(), 1);
    assert!(posts::search(app.db(), "\"unbalanced AND (", 10).await.is_ok());
}

on_both_databases!(
    slugs_are_unique_and_tags_normalised,
    a_stale_version_never_overwrites,
    only_the_author_or_an_admin_changes_a_post,
    the_free_plan_holds_three_published_posts,
    full_text_search_finds_words_in_the_body,
);

mod engagement {
    use super::*;
    use quire::{models::post::CommentBody, services::comments};

    async fn comments_and_likes_follow_the_rules(app: TestApp) {
        let author = user(&app, "h@example.com", Role::User).await;
        let reader = user(&app, "i@example.com", Role::User).await;
        let admin = user(&app, "j@example.com", Role::Admin).await;
        let post = posts::create(app.db(), &author, content("Talk", "Body", "")).await.unwrap();

        // Nobody but the author sees (or comments on) a draft.
        let body = CommentBody::parse("  First!  ").unwrap();
        assert_eq!(
            comments::add(app.db(), app.bus(), &reader, post.id, &body).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
        posts::publish(app.db(), app.bus(), &author, post.id).await.unwrap();
        let c = comments::add(app.db(), app.bus(), &reader, post.id, &body).await.unwrap();
        assert_eq!(c.body, "First!");
        assert!(CommentBody::parse("").is_err() && CommentBody::parse(&"x".repeat(5001)).is_err());

        // Likes are idempotent and counted.
        comments::set_like(app.db(), app.bus(), &reader, post.id, true).await.unwrap();
        let stats = comments::set_like(app.db(), app.bus(), &reader, post.id, true).await.unwrap();
        assert_eq!((stats.likes, stats.comments, stats.liked_by_me), (1, 1, true));
        let theirs = comments::stats(app.db(), Some(&author), post.id).await.unwrap();
        assert!(!theirs.liked_by_me);
        let stats = comments::set_like(app.db(), app.bus(), &reader, post.id, false).await.unwrap();
        assert_eq!(stats.likes, 0);

        // Only the comment's author or an admin deletes it; the deletion is audited.
        assert_eq!(comments::delete(app.db(), &author, c.id).await.unwrap_err().code(), ErrorCode::Forbidden);
        comments::delete(app.db(), &admin, c.id).await.unwrap();
        assert!(comments::list(app.db(), None, post.id, None, 50).await.unwrap().items.is_empty());
        let mut conn = app.db().acquire().await.unwrap();
        let log = db::audit::for_entity(conn.conn(), "comment", c.id).await.unwrap();
        let actions: Vec<_> = log.iter().map(|e| (e.action.as_str(), e.actor_id)).collect();
        assert!(actions.contains(&("comment.create", Some(reader.id))), "{actions:?}");
        assert!(actions.contains(&("comment.delete", Some(admin.id))), "{actions:?}");
        assert_eq!(log.len(), 2);
    }

    on_both_databases!(comments_and_likes_follow_the_rules);
}

mod listing {
    use super::*;
    use quire::{models::Category, services::posts::ListFilter};

    async fn a_cursor_walk_sees_every_published_post_once_newest_first(app: TestApp) {
        let author = user(&app, "k@example.com", Role::User).await;
        let pro = {
            match app.db() {
                Db::Sqlite(p, ..) => sqlx::query("UPDATE users SET plan = 'pro'").execute(p).await.map(|_| ()),
                Db::Postgres(p) => sqlx::query("UPDATE users SET plan = 'pro'").execute(p).await.map(|_| ()),
            }
            .unwrap();
            accounts::find(app.db(), author.id).await.unwrap().unwrap()
        };
        let mut published = Vec::new();
        for i in 0..7 {
            let cat = if i % 2 == 0 { "tech" } else { "business" };
            let tags = if i < 3 { "rust" } else { "other" };
            let c = PostContent::parse(&format!("Post {i}"), "Body", cat, tags).unwrap();
            let p = posts::create(app.db(), &pro, c).await.unwrap();
            posts::publish(app.db(), app.bus(), &pro, p.id).await.unwrap();
            published.push(p.id);
        }
        posts::create(app.db(), &pro, content("A draft", "Body", "rust")).await.unwrap();

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = posts::list_published(app.db(), &ListFilter::default(), cursor.as_deref(), 3).await.unwrap();
            pages += 1;
            seen.extend(page.items.iter().map(|p| p.id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        published.reverse();
        assert_eq!(seen, published, "newest first, no duplicates, no gaps");
        assert_eq!(pages, 3);

        let rust = posts::list_published(app.db(), &ListFilter::parse(None, ["rust"], None, None).unwrap(), None, 50)
            .await
            .unwrap();
        assert_eq!(rust.items.len(), 3);
        assert!(rust.items.iter().all(|p| p.tags == ["rust"]));
        let business = posts::list_published(
            app.db(),
            &ListFilter::parse(Some(Category::Business), [], None, None).unwrap(),
            None,
            50,
        )
        .await
        .unwrap();
        assert_eq!(business.items.len(), 3);

        let bad = posts::list_published(app.db(), &ListFilter::default(), Some("not-a-cursor"), 3).await.unwrap_err();
        assert_eq!(bad.code(), ErrorCode::BadRequest);

        // The dashboard's list pages too: drafts and published, most recently changed first,
        // each post once; a cursor from the public list is refused.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = posts::list_mine(app.db(), &pro, cursor.as_deref(), 3).await.unwrap();
            assert!(page.items.len() <= 3);
            seen.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 8);
        assert!(seen.windows(2).all(|w| (w[0].updated_at, w[0].id) > (w[1].updated_at, w[1].id)));
        let public = posts::list_published(app.db(), &ListFilter::default(), None, 3).await.unwrap();
        let public_cursor = public.next_cursor.expect("the public list has a second page");
        let refused = posts::list_mine(app.db(), &pro, Some(&public_cursor), 3).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::BadRequest);
    }

    on_both_databases!(a_cursor_walk_sees_every_published_post_once_newest_first);
}

mod seeding {
    use super::*;
    use quire::services::{posts::ListFilter, seed};

    async fn seeding_creates_browsable_searchable_data(app: TestApp) {
        let report = seed::run(app.db(), 2_500).await.unwrap();
        assert_eq!(report.posts, 2_500);
        assert!(report.users >= 10 && report.comments > 0 && report.likes > 0);
        let page = posts::list_published(app.db(), &ListFilter::default(), None, 20).await.unwrap();
        assert_eq!(page.items.len(), 20);
        assert!(page.next_cursor.is_some());
        assert!(page.items.windows(2).all(|w| w[0].published_at >= w[1].published_at));
        assert!(!posts::search(app.db(), "garden", 5).await.unwrap().is_empty(), "seeded bodies are indexed");
        // New posts still get fresh ids and slugs after explicit-id inserts.
        let author = user(&app, "after-seed@example.com", Role::User).await;
        posts::create(app.db(), &author, content("After seeding", "Body", "")).await.unwrap();
        // Seeding twice adds, it does not collide.
        seed::run(app.db(), 100).await.unwrap();
    }

    on_both_databases!(seeding_creates_browsable_searchable_data);
}
