//! `/dashboard`: the signed-in user's posts, drafts and published; publishing, unpublishing
//! and deleting happen in the list's island.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    models::User,
    server_fns::editor::{my_posts, DeletePost, PublishPost, UnpublishPost},
    ui::load::resource,
    ui::{
        components::{forms::plain_post_error, guard::RequireUser},
        islands::dashboard::MyPosts,
    },
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
    // `?cursor=`: a later page of a long list (the links work without JavaScript).
    let cursor = use_query_map().with_untracked(|q| q.get("cursor")).filter(|c| !c.is_empty());
    let error = plain_post_error::<PublishPost>()
        .or_else(plain_post_error::<UnpublishPost>)
        .or_else(plain_post_error::<DeletePost>);
    let posts = resource(
        {
            let cursor = cursor.clone();
            move || cursor.clone()
        },
        my_posts,
    );
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
            <Suspense fallback=|| view! { <p class="muted">"Loading your posts…"</p> }>
                {Suspend::new(async move {
                    match posts.await {
                        Ok(list) => view! { <MyPosts list cursor error/> }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
