//! `/`: the front page (the post list arrives with publishing).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::ui::session::use_session;

#[component]
pub fn HomePage() -> impl IntoView {
    let session = use_session();
    view! {
        <Title text=""/>
        <section class="hero">
            <h1>"Quire"</h1>
            <p class="lead">"Write, publish and share — from one small, fast, self-hosted binary."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(user)) => view! {
                            <p>"Welcome back, " {user.name} ". " <A href="/dashboard">"Go to your dashboard"</A></p>
                        }
                        .into_any(),
                        _ => view! {
                            <p class="actions">
                                <A href="/register" attr:class="button">"Create an account"</A>
                                <A href="/login" attr:class="button secondary">"Sign in"</A>
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
