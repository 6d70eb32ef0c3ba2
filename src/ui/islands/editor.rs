//! The post editor: the same rules as the server (`PostContent::parse`) give feedback while
//! typing, an image uploads with a progress bar and its Markdown lands at the cursor, and an
//! edit carries the version it loaded, so a stale save shows a conflict instead of
//! overwriting a newer one. Without JavaScript it is a plain form (and no upload).

use leptos::prelude::*;

use crate::{
    models::{AppError, Category, ErrorCode, FieldError, Post, PostContent},
    server_fns::editor::{CreatePost, UpdatePost},
    ui::components::forms::FormError,
};

/// A new post (`post` is `None`) or an edit of `post`.
#[island(lazy)]
pub fn EditorForm(post: Option<Post>) -> impl IntoView {
    crate::ui::browser::island_ready();
    match post {
        None => {
            let action = ServerAction::<CreatePost>::new();
            let error = Signal::derive(move || action.value().get().and_then(Result::<(), AppError>::err));
            view! {
                <ActionForm action=action attr:class="form" attr:id="editor-form">
                    <EditorFields post=None error/>
                    <button type="submit" disabled=move || action.pending().get()>"Save draft"</button>
                </ActionForm>
            }
            .into_any()
        }
        Some(p) => {
            let action = ServerAction::<UpdatePost>::new();
            let error = Signal::derive(move || action.value().get().and_then(Result::<(), AppError>::err));
            let here = format!("/dashboard/posts/{}/edit", p.id);
            let (id, version) = (p.id, p.version);
            view! {
                {move || {
                    error.get().filter(|e| e.code == ErrorCode::Conflict).map(|e| {
                        let here = here.clone();
                        view! {
                            <div class="form-error conflict" role="alert" data-testid="conflict">
                                <p>{e.message}</p>
                                <a href=here rel="external">"Reload the newer version"</a>
                            </div>
                        }
                    })
                }}
                <ActionForm action=action attr:class="form" attr:id="editor-form">
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="version" value=version/>
                    <EditorFields post=Some(p) error/>
                    <button type="submit" disabled=move || action.pending().get()>"Save"</button>
                </ActionForm>
            }
            .into_any()
        }
    }
}

/// Title, body, category and tags, with client-side checks as the user types and the
/// server's errors after a save.
#[component]
fn EditorFields(post: Option<Post>, error: Signal<Option<AppError>>) -> impl IntoView {
    let title = RwSignal::new(post.as_ref().map(|p| p.title.clone()).unwrap_or_default());
    let body = RwSignal::new(post.as_ref().map(|p| p.body.clone()).unwrap_or_default());
    let category = RwSignal::new(post.as_ref().map(|p| p.category).unwrap_or_default().as_str().to_string());
    let tags = RwSignal::new(post.as_ref().map(|p| p.tags.join(", ")).unwrap_or_default());
    // Checked only once the user has typed, so an empty new form is not shouted at.
    let touched = RwSignal::new(false);
    let client_errors = Memo::new(move |_| {
        if !touched.get() {
            return Vec::<FieldError>::new();
        }
        PostContent::parse(&title.get(), &body.get(), &category.get(), &tags.get()).err().unwrap_or_default()
    });
    let message = move |field: &'static str| {
        client_errors
            .get()
            .into_iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
            .or_else(|| error.get().and_then(|e| e.field(field).map(str::to_string)))
            .map(|m| view! { <p class="field-error" id=format!("{field}-error")>{m}</p> })
    };
    let form_error =
        Signal::derive(move || error.get().filter(|e| e.code != ErrorCode::Conflict && e.errors.is_empty()));
    let initial_body = body.get_untracked();
    let body_ref = NodeRef::<leptos::html::Textarea>::new();

    view! {
        <FormError error=form_error/>
        <label for="post-title">"Title"</label>
        <input
            id="post-title"
            type="text"
            name="title"
            required
            maxlength="200"
            value=title.get_untracked()
            on:input=move |ev| {
                touched.set(true);
                title.set(event_target_value(&ev));
            }
        />
        {move || message("title")}
        <label for="post-body">"Body (Markdown)"</label>
        <textarea
            id="post-body"
            name="body"
            rows="14"
            required
            node_ref=body_ref
            on:input=move |ev| {
                touched.set(true);
                body.set(event_target_value(&ev));
            }
        >
            {initial_body}
        </textarea>
        {move || message("body")}
        <ImageUpload body body_ref/>
        <label for="post-category">"Category"</label>
        <select
            id="post-category"
            name="category"
            on:change=move |ev| {
                touched.set(true);
                category.set(event_target_value(&ev));
            }
        >
            {Category::ALL
                .into_iter()
                .map(|c| view! { <option value=c.as_str() selected=category.get_untracked() == c.as_str()>{c.as_str()}</option> })
                .collect_view()}
        </select>
        {move || message("category")}
        <label for="post-tags">"Tags (comma-separated, up to 10)"</label>
        <input
            id="post-tags"
            type="text"
            name="tags"
            value=tags.get_untracked()
            on:input=move |ev| {
                touched.set(true);
                tags.set(event_target_value(&ev));
            }
        />
        {move || message("tags")}
    }
}

#[derive(Clone, Debug, PartialEq)]
enum UploadState {
    Idle,
    Sending(u8),
    Done(String),
    Failed(String),
}

/// Uploads an image with a real progress bar (bytes sent) and inserts its Markdown link
/// into the body at the cursor. Needs JavaScript; without it the body still takes links.
#[component]
fn ImageUpload(body: RwSignal<String>, body_ref: NodeRef<leptos::html::Textarea>) -> impl IntoView {
    let state = RwSignal::new(UploadState::Idle);
    let start = move |_| {
        if matches!(state.get_untracked(), UploadState::Sending(_)) {
            return;
        }
        state.set(UploadState::Sending(0));
        crate::ui::browser::upload_file(
            "post-image",
            "/api/v1/uploads",
            move |p| state.set(UploadState::Sending(p)),
            move |status, text| {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if status == 201 {
                    let url = v["url"].as_str().unwrap_or_default().to_string();
                    let alt = v["original_name"].as_str().unwrap_or("image").replace([']', '['], "");
                    let link = format!("![{alt}]({url})");
                    let current = body.get_untracked();
                    let at = body_ref
                        .get_untracked()
                        .and_then(|t| t.selection_start().ok().flatten())
                        .map(|i| i as usize)
                        .unwrap_or(current.encode_utf16().count());
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
                    let next = format!(
                        "{}{}{link}\n{}",
                        &current[..byte],
                        if byte == 0 || current[..byte].ends_with('\n') { "" } else { "\n" },
                        &current[byte..]
                    );
                    if let Some(t) = body_ref.get_untracked() {
                        t.set_value(&next);
                    }
                    body.set(next);
                    state.set(UploadState::Done(url));
                } else {
                    let detail = v["detail"].as_str().unwrap_or("The upload failed.").to_string();
                    state.set(UploadState::Failed(detail));
                }
            },
        );
    };
    view! {
        <div class="upload" data-testid="image-upload">
            <label for="post-image">"Image"</label>
            <input id="post-image" type="file" accept="image/png,image/jpeg,image/webp,image/gif"/>
            <button type="button" class="button small" on:click=start data-testid="upload-button"
                disabled=move || matches!(state.get(), UploadState::Sending(_))>"Upload and insert"</button>
            <noscript><span class="muted">" Image upload needs JavaScript."</span></noscript>
            {move || match state.get() {
                UploadState::Idle => ().into_any(),
                UploadState::Sending(p) => view! {
                    <progress max="100" value=p data-testid="upload-progress"></progress> <span>{p} "%"</span>
                }.into_any(),
                UploadState::Done(url) => view! {
                    <progress max="100" value="100" data-testid="upload-progress"></progress>
                    <span class="muted" data-testid="upload-done">" Inserted " <code>{url}</code></span>
                }.into_any(),
                UploadState::Failed(msg) => view! { <p class="field-error" role="alert">{msg}</p> }.into_any(),
            }}
        </div>
    }
}
