//! The dashboard's list of the signed-in user's posts: publish, unpublish and delete
//! without a reload (plain forms without JavaScript).

use leptos::prelude::*;

use crate::{
    models::{
        post::{MyPost, MyPostList},
        time,
    },
    server_fns::editor::{my_posts, DeletePost, PublishPost, UnpublishPost},
    ui::components::forms::FormError,
};

/// `list`: the page as rendered, from `cursor` (`None`: the newest); it is read again after each change.
#[island(lazy)]
pub fn MyPosts(list: MyPostList, cursor: Option<String>) -> impl IntoView {
    crate::ui::browser::island_ready();
    let publish = ServerAction::<PublishPost>::new();
    let unpublish = ServerAction::<UnpublishPost>::new();
    let delete = ServerAction::<DeletePost>::new();
    let rows = RwSignal::new(list.items);
    let next = RwSignal::new(list.next_cursor);
    let first_page = cursor.is_none();
    Effect::new(move |_| {
        if publish.version().get() + unpublish.version().get() + delete.version().get() > 0 {
            let cursor = cursor.clone();
            leptos::task::spawn_local(async move {
                if let Ok(list) = my_posts(cursor).await {
                    rows.set(list.items);
                    next.set(list.next_cursor);
                }
            });
        }
    });
    let error = Signal::derive(move || {
        publish
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| unpublish.value().get().and_then(Result::err))
            .or_else(|| delete.value().get().and_then(Result::err))
    });

    view! {
        <FormError error/>
        <Show when=move || rows.with(|r| !r.is_empty()) fallback=move || view! {
            <p class="muted">{if first_page { "No posts yet. Write your first one." } else { "No older posts." }}</p>
        }>
            <table class="my-posts">
                <thead><tr><th>"Title"</th><th>"Status"</th><th>"Updated"</th><th></th></tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|p| (p.id, p.published, p.updated_at.clone()) let:post>
                        <Row post publish unpublish delete/>
                    </For>
                </tbody>
            </table>
        </Show>
        <p class="pager">
            {(!first_page).then(|| view! { <a href="/dashboard">"← Newest"</a> " " })}
            {move || next.get().map(|c| view! { <a href=format!("/dashboard?cursor={c}") data-testid="older-posts">"Older posts →"</a> })}
        </p>
    }
}

#[component]
fn Row(
    post: MyPost,
    publish: ServerAction<PublishPost>,
    unpublish: ServerAction<UnpublishPost>,
    delete: ServerAction<DeletePost>,
) -> impl IntoView {
    let id = post.id;
    let toggle = if post.published {
        view! {
            <ActionForm action=unpublish attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="link-button" disabled=move || unpublish.pending().get()>"Unpublish"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <ActionForm action=publish attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="link-button" disabled=move || publish.pending().get()>"Publish"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <tr data-post-id=id>
            <td><a href=format!("/posts/{}", post.slug)>{post.title.clone()}</a></td>
            <td>{if post.published { "Published" } else { "Draft" }}</td>
            <td>{time::minute(&post.updated_at)}</td>
            <td class="row-actions">
                <a href=format!("/dashboard/posts/{id}/edit")>"Edit"</a>
                {toggle}
                <ActionForm action=delete attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="link-button danger" disabled=move || delete.pending().get()>"Delete"</button>
                </ActionForm>
            </td>
        </tr>
    }
}
