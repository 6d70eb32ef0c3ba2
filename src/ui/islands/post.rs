//! The interactive parts of a post page: the like button, and the comments (list, form,
//! deletion, live arrivals). Both are plain forms that post to their server functions
//! without JavaScript; with it, the islands send the same forms with `fetch` and update the
//! page in place.
//!
//! This is the most visited page, so its islands stay small: no signals, actions, keyed lists
//! or server-function client, and no props. The server renders each part whole
//! ([`LikeButton`], [`Comments`]) and hands it to its island as children; what the island needs
//! to know it reads from the page's `data-*` attributes, and the JSON answers it gets with the
//! browser's `JSON.parse` (an island with props, or serde_json, costs ~30 kB of brotli wasm).
//! The comment list's HTML comes from one function on both sides ([`items_html`]); a refresh
//! swaps it whole.

use std::fmt::Write as _;

use leptos::{ev::SubmitEvent, prelude::*, server_fn::ServerFn as _};

use crate::{
    models::{time, AppError, Comment, CommentWindow, PostStats},
    server_fns::posts::{AddComment, DeleteComment, SetLike},
    ui::{
        browser::urlencode,
        components::forms::{field_error_html, form_error_html},
    },
};

/// The post stream's event that means "comments changed".
#[cfg(feature = "hydrate")]
const COMMENT_EVENTS: &[&str] = &[crate::models::NotificationKind::CommentCreated.as_str()];

/// The element whose `data-*` attributes tell the comments island what it shows.
const COMMENTS_VIEW: &str = "comments-view";

/// Like or unlike (`stats` as rendered); the count follows each click without a reload.
#[component]
pub fn LikeButton(post_id: i64, stats: PostStats) -> impl IntoView {
    view! {
        <LiveLike>
            <form method="post" action=SetLike::PATH class="inline-form like-form">
                <input type="hidden" name="post_id" value=post_id/>
                <input type="hidden" name="liked" value=(!stats.liked_by_me).to_string()/>
                <button type="submit" data-testid="like-button">
                    <span class="like-label">{like_label(stats.liked_by_me)}</span> " · "
                    <span data-testid="like-count">{stats.likes}</span>
                </button>
            </form>
        </LiveLike>
    }
}

/// Sends the like form in its children with `fetch` and shows the new count.
#[island(lazy)]
pub fn LiveLike(children: Children) -> impl IntoView {
    crate::ui::browser::island_ready();
    view! { <div class="like-island" on:submit=like_submitted>{children()}</div> }
}

fn like_label(liked: bool) -> &'static str {
    if liked {
        "♥ Liked"
    } else {
        "♡ Like"
    }
}

fn like_submitted(ev: SubmitEvent) {
    #[cfg(feature = "hydrate")]
    if let Some(form) = crate::ui::browser::submitted_form(&ev) {
        use crate::ui::browser::{json::Json, send_form_busy, set_text, set_value};
        leptos::task::spawn_local(async move {
            let answer = send_form_busy(&form, None).await;
            let stats = answer
                .filter(|(status, _)| (200..300).contains(status))
                .and_then(|(_, text)| Json::parse(&text))
                .and_then(|s| Some((s.get("likes").int()?, s.get("liked_by_me").bool()?)));
            match stats {
                Some((likes, liked)) => {
                    set_text(&form, "[data-testid=like-count]", &likes.to_string());
                    set_text(&form, ".like-label", like_label(liked));
                    set_value(&form, "input[name=liked]", &(!liked).to_string());
                }
                // Signed out in the meantime, say: the plain form's answer says what happened.
                None => drop(form.submit()),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// Who is looking: they may delete their own comments, an administrator anyone's.
#[derive(Clone, Copy)]
struct Viewer {
    id: Option<i64>,
    admin: bool,
}

/// A post's comments as the page shows them: `window` (the newest, or those before
/// `before`), a form for a signed-in `viewer_id`, Delete on the viewer's own (an admin's: on
/// all), links to older and newer ones. New comments by anyone arrive live. `add_error` and
/// `delete_error`: what a plain (no JavaScript) form post of either came back with.
#[component]
#[allow(clippy::too_many_arguments)]
pub fn Comments(
    post_id: i64,
    slug: String,
    window: CommentWindow,
    before: Option<String>,
    viewer_id: Option<i64>,
    viewer_is_admin: bool,
    login_href: String,
    add_error: Option<AppError>,
    delete_error: Option<AppError>,
) -> impl IntoView {
    let viewer = Viewer { id: viewer_id, admin: viewer_is_admin };
    let newest_href = format!("/posts/{slug}#comments");
    let older = older_html(&slug, window.older.as_deref());
    let items = items_html(&window.items, viewer);
    view! {
        <LiveComments>
            <div
                id=COMMENTS_VIEW
                data-post-id=post_id
                data-slug=slug
                data-before=before.clone()
                data-viewer-id=viewer_id
                data-viewer-admin=viewer_is_admin.to_string()
            >
                <h2>"Comments (" <span data-testid="comment-count">{window.total}</span> ")"</h2>
                <div class="older-comments slot" inner_html=older></div>
                <div class="delete-error slot" inner_html=form_error_html(delete_error.as_ref())></div>
                <ul class="comment-list" data-testid="comment-list" inner_html=items></ul>
                {before.is_some().then(|| view! { <p><a href=newest_href>"Newest comments"</a></p> })}
                {match viewer_id {
                    Some(_) => view! {
                        <div class="add-error slot" inner_html=form_error_html(add_error.as_ref())></div>
                        <form method="post" action=AddComment::PATH class="form" id="comment-form">
                            <input type="hidden" name="post_id" value=post_id/>
                            <label for="comment-body">"Add a comment"</label>
                            <textarea id="comment-body" name="body" rows="3" required maxlength="5000"></textarea>
                            <div class="body-error slot" inner_html=field_error_html(add_error.as_ref(), "body")></div>
                            <button type="submit">"Post comment"</button>
                        </form>
                    }.into_any(),
                    None => view! { <p><a href=login_href>"Sign in to comment"</a></p> }.into_any(),
                }}
            </div>
        </LiveComments>
    }
}

/// Sends the comment forms in its children with `fetch`, and keeps the list current (live
/// over the post's event stream, and after each form).
#[island(lazy)]
pub fn LiveComments(children: Children) -> impl IntoView {
    crate::ui::browser::island_ready();
    #[cfg(feature = "hydrate")]
    let shown = Shown::from_page();
    #[cfg(feature = "hydrate")]
    if let Some(shown) = shown.clone() {
        let url = format!("/api/v1/posts/{}/events", shown.post_id);
        crate::ui::browser::use_event_stream(url, COMMENT_EVENTS, move |_, _| {
            leptos::task::spawn_local(shown.clone().refresh());
        });
    }
    let on_submit = move |ev: SubmitEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(shown) = &shown {
            shown.submitted(ev);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! { <div class="comments-island" on:submit=on_submit>{children()}</div> }
}

/// The comment list a page shows (read from its `data-*` attributes), and how to read it again.
#[cfg(feature = "hydrate")]
#[derive(Clone)]
struct Shown {
    post_id: i64,
    slug: String,
    before: Option<String>,
    viewer: Viewer,
}

#[cfg(feature = "hydrate")]
impl Shown {
    fn from_page() -> Option<Self> {
        use crate::ui::browser::page_data;
        let data = |name| page_data(COMMENTS_VIEW, name);
        Some(Self {
            post_id: data("data-post-id")?.parse().ok()?,
            slug: data("data-slug")?,
            before: data("data-before"),
            viewer: Viewer {
                id: data("data-viewer-id").and_then(|v| v.parse().ok()),
                admin: data("data-viewer-admin").as_deref() == Some("true"),
            },
        })
    }

    /// A form inside the list was sent (a new comment, or Delete): send it with `fetch`,
    /// then show its error or the list as it is now.
    fn submitted(&self, ev: SubmitEvent) {
        let Some(form) = crate::ui::browser::submitted_form(&ev) else { return };
        use crate::ui::browser::{send_form_for_refusal, set_html};
        let shown = self.clone();
        leptos::task::spawn_local(async move {
            let adding = form.id() == "comment-form";
            let Some(root) = form.closest(".comments-island").ok().flatten() else { return };
            let error = send_form_for_refusal(&form, adding.then_some(("Posting…", "Post comment"))).await;
            if adding {
                set_html(&root, ".add-error", &form_error_html(error.as_ref()));
                set_html(&root, ".body-error", &field_error_html(error.as_ref(), "body"));
                if error.is_none() {
                    form.reset();
                }
            } else {
                set_html(&root, ".delete-error", &form_error_html(error.as_ref()));
            }
            if error.is_none() {
                shown.refresh().await;
            }
        });
    }

    /// Reads the shown window again (the `post_comments` server function) and swaps it in.
    async fn refresh(self) {
        use crate::{
            server_fns::posts::PostComments,
            ui::browser::{post_form, set_html, set_text},
        };
        let before = self.before.as_deref().map(urlencode).unwrap_or_default();
        let body = format!("post_id={}&before={before}", self.post_id);
        let Some((200..=299, text)) = post_form(PostComments::PATH, &body).await else { return };
        let Some(window) = read_window(&text) else { return };
        let Some(root) = document().query_selector(".comments-island").ok().flatten() else { return };
        set_text(&root, "[data-testid=comment-count]", &window.total.to_string());
        set_html(&root, ".older-comments", &older_html(&self.slug, window.older.as_deref()));
        set_html(&root, "[data-testid=comment-list]", &items_html(&window.items, self.viewer));
    }
}

/// A [`CommentWindow`] from the `post_comments` server function's JSON.
#[cfg(feature = "hydrate")]
fn read_window(text: &str) -> Option<CommentWindow> {
    use crate::{models::time::DateTime, ui::browser::json::Json};
    let json = Json::parse(text)?;
    let comment = |c: Json| {
        Some(Comment {
            id: c.get("id").int()?,
            post_id: c.get("post_id").int()?,
            author_id: c.get("author_id").int()?,
            author_name: c.get("author_name").str()?,
            body: c.get("body").str()?,
            created_at: DateTime::from_text(c.get("created_at").str()?),
        })
    };
    Some(CommentWindow {
        items: json.get("items").items().into_iter().filter_map(comment).collect(),
        total: json.get("total").int()?,
        older: json.get("older").str(),
    })
}

/// The list's items: each comment's author, time and text, and Delete where `viewer` may.
fn items_html(items: &[Comment], viewer: Viewer) -> String {
    use html_escape::encode_text;
    let mut out = String::new();
    for c in items {
        let _ = write!(
            out,
            r#"<li class="comment" id="comment-{}"><p class="meta">{} · {}</p><p class="comment-body">{}</p>"#,
            c.id,
            encode_text(&c.author_name),
            time::minute(&c.created_at),
            encode_text(&c.body),
        );
        if viewer.admin || viewer.id == Some(c.author_id) {
            let _ = write!(
                out,
                r#"<form method="post" action="{}" class="inline-form"><input type="hidden" name="id" value="{}"/><button type="submit" class="link-button">Delete</button></form>"#,
                DeleteComment::PATH,
                c.id
            );
        }
        out.push_str("</li>");
    }
    out
}

/// The link to the comments before this window, if there are any.
fn older_html(slug: &str, older: Option<&str>) -> String {
    older.map_or_else(String::new, |cursor| {
        format!(
            r##"<p><a href="/posts/{}?before={}#comments" data-testid="older-comments">Older comments</a></p>"##,
            html_escape::encode_double_quoted_attribute(slug),
            urlencode(cursor)
        )
    })
}
