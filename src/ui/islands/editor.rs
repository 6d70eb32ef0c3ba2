//! The post editor: the same rules as the server (`PostContent::parse`) give feedback while
//! typing, an image uploads with a progress bar and its Markdown lands at the cursor, and an
//! edit carries the version it loaded, so a stale save shows a conflict instead of
//! overwriting a newer one. Without JavaScript it is a plain form (and no upload), and a
//! refused save shows why after the redirect.
//!
//! Like the post page's islands, it stays small: the server renders the whole form
//! ([`PostEditor`]) and hands it to the island ([`LiveEditor`]) as children; the island
//! listens to the events that bubble up to it and writes its messages as HTML (no signals,
//! actions, server-function client, props or serde_json).

use leptos::{prelude::*, server_fn::ServerFn as _};

use crate::{
    models::{AppError, Category, ErrorCode, Post},
    server_fns::editor::{CreatePost, UpdatePost},
    ui::components::forms::{field_error_html, form_error_html},
};

#[cfg(feature = "hydrate")]
/// The fields [`PostContent::parse`](crate::models::PostContent::parse) checks, each with
/// its message slot (`.{field}-error`) under it.
const FIELDS: [&str; 4] = ["title", "body", "category", "tags"];

/// A new post (`post` is `None`) or an edit of `post`. `error`: what a plain (no JavaScript)
/// save came back with.
#[component]
pub fn PostEditor(post: Option<Post>, error: Option<AppError>) -> impl IntoView {
    let (action, save) = if post.is_some() { (UpdatePost::PATH, "Save") } else { (CreatePost::PATH, "Save draft") };
    let here = post.as_ref().map(|p| format!("/dashboard/posts/{}/edit", p.id)).unwrap_or_default();
    let (conflict, form_error) = refusal_html(error.as_ref(), &here);
    let field_error = move |field| field_error_html(error.as_ref(), field);
    let category = post.as_ref().map(|p| p.category).unwrap_or_default();
    view! {
        <LiveEditor>
            <div class="conflict-slot slot" inner_html=conflict></div>
            <form method="post" action=action class="form" id="editor-form">
                {post.as_ref().map(|p| view! {
                    <input type="hidden" name="id" value=p.id/>
                    <input type="hidden" name="version" value=p.version/>
                })}
                <div class="form-error-slot slot" inner_html=form_error></div>
                <label for="post-title">"Title"</label>
                <input id="post-title" type="text" name="title" required maxlength="200"
                    value=post.as_ref().map(|p| p.title.clone())/>
                <div class="title-error slot" inner_html=field_error("title")></div>
                <label for="post-body">"Body (Markdown)"</label>
                <textarea id="post-body" name="body" rows="14" required>
                    {post.as_ref().map(|p| p.body.clone())}
                </textarea>
                <div class="body-error slot" inner_html=field_error("body")></div>
                <div class="upload" data-testid="image-upload">
                    <label for="post-image">"Image"</label>
                    <input id="post-image" type="file" accept="image/png,image/jpeg,image/webp,image/gif"/>
                    <button type="button" class="button small" data-testid="upload-button">"Upload and insert"</button>
                    <noscript><span class="muted">" Image upload needs JavaScript."</span></noscript>
                    <div class="upload-status slot"></div>
                </div>
                <label for="post-category">"Category"</label>
                <select id="post-category" name="category">
                    {Category::ALL
                        .into_iter()
                        .map(|c| view! { <option value=c.as_str() selected=*c == category>{c.as_str()}</option> })
                        .collect_view()}
                </select>
                <div class="category-error slot" inner_html=field_error("category")></div>
                <label for="post-tags">"Tags (comma-separated, up to 10)"</label>
                <input id="post-tags" type="text" name="tags" value=post.as_ref().map(|p| p.tags.join(", "))/>
                <div class="tags-error slot" inner_html=field_error("tags")></div>
                <button type="submit">{save}</button>
            </form>
        </LiveEditor>
    }
}

/// What a refused save says above the fields: a stale save's message with a link to the newer
/// version (`here`: the editor's address), or any other form-level message. Both as HTML:
/// (conflict, form error).
fn refusal_html(error: Option<&AppError>, here: &str) -> (String, String) {
    match error {
        Some(e) if e.code == ErrorCode::Conflict => (
            format!(
                r#"<div class="form-error conflict" role="alert" data-testid="conflict"><p>{}</p><a href="{}" rel="external">Reload the newer version</a></div>"#,
                html_escape::encode_text(&e.message),
                html_escape::encode_double_quoted_attribute(here)
            ),
            String::new(),
        ),
        _ => (String::new(), form_error_html(error)),
    }
}

/// Checks the fields as they are typed, saves with `fetch`, uploads images.
#[island(lazy)]
pub fn LiveEditor(children: Children) -> impl IntoView {
    crate::ui::browser::island_ready();
    view! {
        <div class="editor-island" on:input=live::edited on:submit=live::submitted on:click=live::clicked>
            {children()}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    use leptos::{
        ev::{Event, MouseEvent, SubmitEvent},
        prelude::*,
    };
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlFormElement, HtmlTextAreaElement};

    use super::{refusal_html, FIELDS};
    use crate::{
        models::{AppError, PostContent},
        server_fns::editor::AFTER_SAVE,
        ui::{
            browser::{json, navigate, send_form_busy, set_html, upload_file},
            components::forms::field_error_html,
        },
    };

    fn editor_form() -> Option<HtmlFormElement> {
        document().get_element_by_id("editor-form")?.dyn_into().ok()
    }

    /// One of the checked fields changed: show what the server's rules say about the form as
    /// it is now (choosing an image is not an edit, and says nothing yet).
    pub fn edited(ev: Event) {
        let name = ev.target().and_then(|t| t.dyn_into::<Element>().ok()).and_then(|e| e.get_attribute("name"));
        if !name.is_some_and(|n| FIELDS.contains(&n.as_str())) {
            return;
        }
        let Some(form) = editor_form() else { return };
        let Ok(data) = web_sys::FormData::new_with_form(&form) else { return };
        let value = |name| data.get(name).as_string().unwrap_or_default();
        let errors = PostContent::parse(&value("title"), &value("body"), &value("category"), &value("tags")).err();
        show_fields(&form, errors.map(AppError::validation).as_ref());
    }

    fn show_fields(form: &Element, error: Option<&AppError>) {
        for field in FIELDS {
            set_html(form, &format!(".{field}-error"), &field_error_html(error, field));
        }
    }

    /// Saves with `fetch`: the dashboard after a save, the reasons after a refusal.
    pub fn submitted(ev: SubmitEvent) {
        let Some(form) = crate::ui::browser::submitted_form(&ev) else { return };
        leptos::task::spawn_local(async move {
            let answer = send_form_busy(&form, None).await;
            let refusal = match &answer {
                Some((200..=299, _)) => return navigate(AFTER_SAVE),
                Some((_, text)) => json::app_error(text),
                None => None,
            };
            match refusal {
                Some(error) => {
                    let here = window().location().pathname().unwrap_or_default();
                    let (conflict, form_error) = refusal_html(Some(&error), &here);
                    if let Some(root) = form.closest(".editor-island").ok().flatten() {
                        set_html(&root, ".conflict-slot", &conflict);
                    }
                    set_html(&form, ".form-error-slot", &form_error);
                    show_fields(&form, Some(&error));
                }
                // No answer, or not one of ours: the plain form's answer says what happened.
                None => drop(form.submit()),
            }
        });
    }

    /// "Upload and insert": sends the chosen image, showing its progress, and inserts its
    /// Markdown link into the body at the cursor.
    pub fn clicked(ev: MouseEvent) {
        let button = ev.target().and_then(|t| t.dyn_into::<Element>().ok());
        let Some(button) = button.filter(|b| b.get_attribute("data-testid").as_deref() == Some("upload-button")) else {
            return;
        };
        let Some(status) = document().query_selector(".upload-status").ok().flatten() else { return };
        if button.has_attribute("disabled") {
            return;
        }
        let _ = button.set_attribute("disabled", "");
        status.set_inner_html(&progress_html(0));
        let on_progress = {
            let status = status.clone();
            move |p| status.set_inner_html(&progress_html(p))
        };
        upload_file("post-image", "/api/v1/uploads", on_progress, move |code, text| {
            let _ = button.remove_attribute("disabled");
            let answer = json::Json::parse(&text);
            let field = |name| answer.as_ref().and_then(|a| a.get(name).str());
            match field("url") {
                Some(url) if code == 201 => {
                    let alt = field("original_name").unwrap_or_else(|| "image".into()).replace([']', '['], "");
                    insert_at_cursor(&format!("![{alt}]({url})"));
                    status.set_inner_html(&format!(
                        r#"{}<span class="muted" data-testid="upload-done"> Inserted <code>{}</code></span>"#,
                        progress_html(100),
                        html_escape::encode_text(&url)
                    ));
                }
                _ => {
                    let detail = field("detail").unwrap_or_else(|| "The upload failed.".into());
                    let message = html_escape::encode_text(&detail);
                    status.set_inner_html(&format!(r#"<p class="field-error" role="alert">{message}</p>"#));
                }
            }
        });
    }

    fn progress_html(percent: u8) -> String {
        format!(
            r#"<progress max="100" value="{percent}" data-testid="upload-progress"></progress> <span>{percent}%</span> "#
        )
    }

    /// Puts `link` on its own line at the body's cursor (at the end when it has none).
    fn insert_at_cursor(link: &str) {
        let Some(body) =
            document().get_element_by_id("post-body").and_then(|e| e.dyn_into::<HtmlTextAreaElement>().ok())
        else {
            return;
        };
        let current = body.value();
        let at = body.selection_start().ok().flatten().map(|i| i as usize).unwrap_or(current.encode_utf16().count());
        // selectionStart counts UTF-16 units; find the matching byte offset.
        let mut units = 0;
        let mut byte = current.len();
        for (i, ch) in current.char_indices() {
            if units >= at {
                byte = i;
                break;
            }
            units += ch.len_utf16();
        }
        let (before, after) = current.split_at(byte);
        let gap = if before.is_empty() || before.ends_with('\n') { "" } else { "\n" };
        body.set_value(&format!("{before}{gap}{link}\n{after}"));
    }
}

/// On the server the island only renders; its handlers run in the browser.
#[cfg(not(feature = "hydrate"))]
mod live {
    pub fn edited(_: leptos::ev::Event) {}
    pub fn submitted(_: leptos::ev::SubmitEvent) {}
    pub fn clicked(_: leptos::ev::MouseEvent) {}
}
