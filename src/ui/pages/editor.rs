//! `/dashboard/posts/new` and `/dashboard/posts/:id/edit`: the post editor's pages. The
//! form is rendered here and made live by an island (`ui::islands::editor`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    server_fns::editor::{post_for_edit, CreatePost, UpdatePost},
    ui::load::resource,
    ui::{
        components::{forms::plain_post_error, guard::RequireUser},
        islands::editor::PostEditor,
    },
};

#[component]
pub fn NewPostPage() -> impl IntoView {
    view! {
        <Title text="New post"/>
        <RequireUser view=|_| view! {
            <section class="card">
                <h1>"New post"</h1>
                <PostEditor post=None error={plain_post_error::<CreatePost>()}/>
            </section>
        }/>
    }
}

#[component]
pub fn EditPostPage() -> impl IntoView {
    let params = use_params_map();
    view! {
        <Title text="Edit post"/>
        <RequireUser view=move |_| {
            let id = params.read_untracked().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
            let post = resource(move || id, post_for_edit);
            view! {
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {Suspend::new(async move {
                        match post.await {
                            Ok(p) => view! {
                                <section class="card">
                                    <h1>"Edit post"</h1>
                                    <PostEditor post=Some(p) error={plain_post_error::<UpdatePost>()}/>
                                </section>
                            }
                            .into_any(),
                            Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            }
        }/>
    }
}
