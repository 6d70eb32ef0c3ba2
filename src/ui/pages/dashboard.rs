//! `/dashboard`: the signed-in user's posts, drafts and published, with publish,
//! unpublish and delete as server actions (the list refreshes after each).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    models::{Post, User},
    server_fns::editor::{my_posts, DeletePost, PublishPost, UnpublishPost},
    ui::components::{forms::FormError, guard::RequireUser},
};

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard"/>
        <RequireUser view=|user| view! { <Dashboard user/> }/>
    }
}

#[component]
fn Dashboard(user: User) -> impl IntoView {
    let publish = ServerAction::<PublishPost>::new();
    let unpublish = ServerAction::<UnpublishPost>::new();
    let delete = ServerAction::<DeletePost>::new();
    let posts = Resource::new(
        move || (publish.version().get(), unpublish.version().get(), delete.version().get()),
        |_| my_posts(),
    );
    let error = Signal::derive(move || {
        publish
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| unpublish.value().get().and_then(Result::err))
            .or_else(|| delete.value().get().and_then(Result::err))
    });

    view! {
        <section class="card">
            <div class="row-between">
                <h1>"Dashboard"</h1>
                <A href="/dashboard/posts/new" attr:class="button">"New post"</A>
            </div>
            <p data-testid="dashboard-greeting">
                "Signed in as " <strong>{user.name.clone()}</strong> " (" {user.email.clone()} ") · plan "
                {user.plan.as_str()}
            </p>
            <FormError error/>
            <Suspense fallback=|| view! { <p class="muted">"Loading your posts…"</p> }>
                {move || Suspend::new(async move {
                    match posts.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No posts yet. Write your first one."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="my-posts">
                                <thead><tr><th>"Title"</th><th>"Status"</th><th>"Updated"</th><th></th></tr></thead>
                                <tbody>{list.into_iter().map(|p| view! { <PostRow post=p publish unpublish delete/> }).collect_view()}</tbody>
                            </table>
                        }
                        .into_any(),
                        Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PostRow(
    post: Post,
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
            <td><A href=format!("/posts/{}", post.slug)>{post.title.clone()}</A></td>
            <td>{if post.published { "Published" } else { "Draft" }}</td>
            <td>{post.updated_at.format("%Y-%m-%d %H:%M").to_string()}</td>
            <td class="row-actions">
                <A href=format!("/dashboard/posts/{id}/edit")>"Edit"</A>
                {toggle}
                <ActionForm action=delete attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="link-button danger" disabled=move || delete.pending().get()>"Delete"</button>
                </ActionForm>
            </td>
        </tr>
    }
}
