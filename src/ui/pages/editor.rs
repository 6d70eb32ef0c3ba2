//! `/dashboard/posts/new` and `/dashboard/posts/:id/edit`: the post editor. The same
//! rules as the server (`PostContent::parse`) give instant feedback while typing; the
//! edit form carries the version it loaded, so a stale save shows a conflict instead of
//! overwriting someone else's newer save.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

use crate::{
    models::{AppError, Category, ErrorCode, FieldError, Post, PostContent},
    server_fns::editor::{post_for_edit, CreatePost, UpdatePost},
    ui::components::{forms::FormError, guard::RequireUser},
};

#[component]
pub fn NewPostPage() -> impl IntoView {
    view! {
        <Title text="New post"/>
        <RequireUser view=|_| {
            let action = ServerAction::<CreatePost>::new();
            let error = Signal::derive(move || action.value().get().and_then(Result::err));
            view! {
                <section class="card">
                    <h1>"New post"</h1>
                    <ActionForm action=action attr:class="form" attr:id="editor-form">
                        <EditorFields post=None error/>
                        <button type="submit" disabled=move || action.pending().get()>"Save draft"</button>
                    </ActionForm>
                </section>
            }
        }/>
    }
}

#[component]
pub fn EditPostPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    view! {
        <Title text="Edit post"/>
        <RequireUser view=move |_| {
            let action = ServerAction::<UpdatePost>::new();
            let error = Signal::derive(move || action.value().get().and_then(Result::err));
            let id = params.read_untracked().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
            let post = Resource::new(move || id, post_for_edit);
            let here = location.pathname.get_untracked();
            view! {
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {
                        let here = here.clone();
                        move || {
                            let here = here.clone();
                            Suspend::new(async move {
                                match post.await {
                                    Ok(p) => view! {
                                        <section class="card">
                                            <h1>"Edit post"</h1>
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
                                                <input type="hidden" name="id" value=p.id/>
                                                <input type="hidden" name="version" value=p.version/>
                                                <EditorFields post=Some(p.clone()) error/>
                                                <button type="submit" disabled=move || action.pending().get()>"Save"</button>
                                            </ActionForm>
                                        </section>
                                    }
                                    .into_any(),
                                    Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                                }
                            })
                        }
                    }
                </Suspense>
            }
        }/>
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
            on:input=move |ev| {
                touched.set(true);
                body.set(event_target_value(&ev));
            }
        >
            {initial_body}
        </textarea>
        {move || message("body")}
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
