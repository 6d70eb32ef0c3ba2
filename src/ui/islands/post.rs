//! The interactive parts of a post page: the like button, and the comments (list, form,
//! deletion, live arrivals). Both are plain forms without JavaScript.

use leptos::prelude::*;

use crate::{
    models::{time, AppError, CommentWindow, NotificationKind, PostStats},
    server_fns::posts::{post_comments, AddComment, DeleteComment, SetLike},
    ui::{
        browser::use_event_stream,
        components::forms::{FieldError, FormError},
    },
};

/// The post stream's event that means "comments changed".
const COMMENT_EVENTS: &[&str] = &[NotificationKind::CommentCreated.as_str()];

/// Like or unlike (`stats` as rendered); the count follows each click without a reload.
#[island(lazy)]
pub fn LikeButton(post_id: i64, stats: PostStats) -> impl IntoView {
    crate::ui::browser::island_ready();
    let like = ServerAction::<SetLike>::new();
    let current = move || match like.value().get() {
        Some(Ok(s)) => s,
        _ => stats,
    };
    view! {
        <ActionForm action=like attr:class="inline-form like-form">
            <input type="hidden" name="post_id" value=post_id/>
            <input type="hidden" name="liked" value=move || (!current().liked_by_me).to_string()/>
            <button type="submit" data-testid="like-button" disabled=move || like.pending().get()>
                {move || if current().liked_by_me { "♥ Liked" } else { "♡ Like" }} " · "
                <span data-testid="like-count">{move || current().likes}</span>
            </button>
        </ActionForm>
    }
}

/// A post's comments as the page shows them: `window` (the newest, or those before
/// `before`), a form for a signed-in `viewer_id`, Delete on the viewer's own (an admin's: on
/// all), links to older and newer ones. New comments by anyone arrive live.
#[island(lazy)]
pub fn Comments(
    post_id: i64,
    slug: String,
    window: CommentWindow,
    before: Option<String>,
    viewer_id: Option<i64>,
    viewer_is_admin: bool,
    login_href: String,
) -> impl IntoView {
    crate::ui::browser::island_ready();
    let add = ServerAction::<AddComment>::new();
    let delete = ServerAction::<DeleteComment>::new();
    let shown = RwSignal::new(window);
    let refresh = {
        let before = before.clone();
        move || {
            let before = before.clone();
            leptos::task::spawn_local(async move {
                if let Ok(w) = post_comments(post_id, before).await {
                    shown.set(w);
                }
            });
        }
    };
    // After this page's own comment or deletion, and whenever anyone comments.
    Effect::new({
        let refresh = refresh.clone();
        move |_| {
            if add.version().get() + delete.version().get() > 0 {
                refresh();
            }
        }
    });
    use_event_stream(format!("/api/v1/posts/{post_id}/events"), COMMENT_EVENTS, move |_, _| refresh());
    let comment_error = Signal::derive(move || add.value().get().and_then(Result::<(), AppError>::err));
    let delete_error = Signal::derive(move || delete.value().get().and_then(Result::<(), AppError>::err));
    let viewing_older = before.is_some();
    let newest_href = format!("/posts/{slug}#comments");

    view! {
        <h2>"Comments (" <span data-testid="comment-count">{move || shown.with(|w| w.total)}</span> ")"</h2>
        {move || shown.with(|w| w.older.clone()).map(|c| {
            let href = format!("/posts/{slug}?before={}#comments", urlencode(&c));
            view! { <p><a href=href data-testid="older-comments">"Older comments"</a></p> }
        })}
        <FormError error=delete_error/>
        <ul class="comment-list" data-testid="comment-list">
            <For each=move || shown.with(|w| w.items.clone()) key=|c| c.id let:c>
                <li class="comment" id=format!("comment-{}", c.id)>
                    <p class="meta">{c.author_name.clone()} " · " {time::minute(&c.created_at)}</p>
                    <p class="comment-body">{c.body.clone()}</p>
                    {(viewer_id == Some(c.author_id) || viewer_is_admin).then(|| view! {
                        <ActionForm action=delete attr:class="inline-form">
                            <input type="hidden" name="id" value=c.id/>
                            <button type="submit" class="link-button" disabled=move || delete.pending().get()>"Delete"</button>
                        </ActionForm>
                    })}
                </li>
            </For>
        </ul>
        {viewing_older.then(|| view! { <p><a href=newest_href>"Newest comments"</a></p> })}
        {match viewer_id {
            Some(_) => view! {
                <FormError error=Signal::derive(move || comment_error.get().filter(|e| e.errors.is_empty()))/>
                <ActionForm action=add attr:class="form" attr:id="comment-form">
                    <input type="hidden" name="post_id" value=post_id/>
                    <label for="comment-body">"Add a comment"</label>
                    <textarea id="comment-body" name="body" rows="3" required maxlength="5000"></textarea>
                    <FieldError error=comment_error field="body"/>
                    <button type="submit" disabled=move || add.pending().get()>
                        {move || if add.pending().get() { "Posting…" } else { "Post comment" }}
                    </button>
                </ActionForm>
            }.into_any(),
            None => view! { <p><a href=login_href>"Sign in to comment"</a></p> }.into_any(),
        }}
    }
}

/// Percent-encodes a query value (cursors are URL-safe base64 already; this keeps them so).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
