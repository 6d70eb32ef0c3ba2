//! Real error pages (with the matching HTTP status on the server).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::ctx::set_status(axum::http::StatusCode::NOT_FOUND);
    view! {
        <Title text="Page not found"/>
        <section class="card error-page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or never existed."</p>
            <p><A href="/">"Back to the front page"</A></p>
        </section>
    }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::ctx::set_status(axum::http::StatusCode::FORBIDDEN);
    view! {
        <Title text="Not allowed"/>
        <section class="card error-page">
            <h1>"403 — not allowed"</h1>
            <p>"Your account may not open this page."</p>
            <p><A href="/">"Back to the front page"</A></p>
        </section>
    }
}
