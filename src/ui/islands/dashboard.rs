//! The dashboard's list of the signed-in user's posts: publish, unpublish and delete
//! without a reload (plain forms without JavaScript).
//!
//! Like the post page's islands, it uses no signals, actions, keyed lists or server-function
//! client: each row's forms are sent with `fetch`, then the page is read again and its HTML
//! (from [`list_html`], the same function the server renders with) swapped in.

use std::fmt::Write as _;

use leptos::{ev::SubmitEvent, prelude::*, server_fn::ServerFn as _};

use crate::{
    models::{post::MyPostList, time, AppError},
    server_fns::editor::{DeletePost, PublishPost, UnpublishPost},
    ui::components::forms::form_error_html,
};

/// `list`: the page as rendered, from `cursor` (`None`: the newest); it is read again after
/// each change. `error`: what a plain (no JavaScript) post of one of its forms came back with.
#[island(lazy)]
pub fn MyPosts(list: MyPostList, cursor: Option<String>, error: Option<AppError>) -> impl IntoView {
    crate::ui::browser::island_ready();
    let first_page = cursor.is_none();
    let html = list_html(&list, first_page);
    let on_submit = move |ev: SubmitEvent| submitted(ev, cursor.clone());
    view! {
        <div class="my-posts-island" on:submit=on_submit>
            <div class="list-error" inner_html=form_error_html(error.as_ref())></div>
            <div class="my-posts-list" inner_html=html></div>
            {(!first_page).then(|| view! { <p class="pager"><a href="/dashboard">"← Newest"</a></p> })}
        </div>
    }
}

/// A row's form was sent: send it with `fetch`, then show its error or the page as it is now.
fn submitted(ev: SubmitEvent, cursor: Option<String>) {
    #[cfg(feature = "hydrate")]
    if let Some(form) = crate::ui::browser::submitted_form(&ev) {
        use crate::{
            server_fns::editor::MyPosts as MyPostsFn,
            ui::browser::{post_form, send_form_for_refusal, set_html, urlencode},
        };
        leptos::task::spawn_local(async move {
            let Some(root) = form.closest(".my-posts-island").ok().flatten() else { return };
            let error = send_form_for_refusal(&form, None).await;
            set_html(&root, ".list-error", &form_error_html(error.as_ref()));
            let body = format!("cursor={}", cursor.as_deref().map(urlencode).unwrap_or_default());
            let Some((200..=299, text)) = post_form(MyPostsFn::PATH, &body).await else { return };
            if let Ok(list) = serde_json::from_str::<MyPostList>(&text) {
                set_html(&root, ".my-posts-list", &list_html(&list, cursor.is_none()));
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, cursor);
}

/// The page's table (or what to say instead) and the link to older posts.
fn list_html(list: &MyPostList, first_page: bool) -> String {
    use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
    if list.items.is_empty() {
        let empty = if first_page { "No posts yet. Write your first one." } else { "No older posts." };
        return format!(r#"<p class="muted">{empty}</p>"#);
    }
    let mut out = String::from(
        r#"<table class="my-posts"><thead><tr><th>Title</th><th>Status</th><th>Updated</th><th></th></tr></thead><tbody>"#,
    );
    for p in &list.items {
        let (status, toggle_path, toggle) = if p.published {
            ("Published", UnpublishPost::PATH, "Unpublish")
        } else {
            ("Draft", PublishPost::PATH, "Publish")
        };
        let _ = write!(
            out,
            concat!(
                r#"<tr data-post-id="{id}"><td><a href="/posts/{slug}">{title}</a></td><td>{status}</td><td>{updated}</td>"#,
                r#"<td class="row-actions"><a href="/dashboard/posts/{id}/edit">Edit</a>"#,
                r#"<form method="post" action="{toggle_path}" class="inline-form"><input type="hidden" name="id" value="{id}"/>"#,
                r#"<button type="submit" class="link-button">{toggle}</button></form>"#,
                r#"<form method="post" action="{delete_path}" class="inline-form"><input type="hidden" name="id" value="{id}"/>"#,
                r#"<button type="submit" class="link-button danger">Delete</button></form></td></tr>"#,
            ),
            id = p.id,
            slug = attr(&p.slug),
            title = text(&p.title),
            status = status,
            updated = time::minute(&p.updated_at),
            toggle_path = toggle_path,
            toggle = toggle,
            delete_path = DeletePost::PATH,
        );
    }
    out.push_str("</tbody></table>");
    if let Some(next) = &list.next_cursor {
        let _ = write!(
            out,
            r#"<p class="pager"><a href="/dashboard?cursor={}" data-testid="older-posts">Older posts →</a></p>"#,
            attr(next)
        );
    }
    out
}
