//! `/dashboard`: the signed-in user's posts, drafts and published; publishing, unpublishing
//! and deleting happen in the list's island.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    models::User,
    server_fns::editor::my_posts,
    ui::{components::guard::RequireUser, islands::dashboard::MyPosts},
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
    let posts = Resource::new(|| (), |_| my_posts());
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
                {move || Suspend::new(async move {
                    match posts.await {
                        Ok(list) => view! { <MyPosts posts=list/> }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
