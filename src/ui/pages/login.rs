//! `/login`: sign in, then back to `?next=` (same-site paths only) or the dashboard.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    server_fns::auth::Login,
    ui::components::forms::{FieldError, FormError},
};

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let register_href = move || {
        let n = next();
        if n.is_empty() {
            "/register".to_string()
        } else {
            format!("/register?next={}", leptos_router::location::Url::escape(&n))
        }
    };

    view! {
        <Title text="Sign in"/>
        <section class="card auth-card">
            <h1>"Sign in"</h1>
            <FormError error/>
            <ActionForm action=action attr:class="form" attr:id="login-form">
                <input type="hidden" name="next" value=next/>
                <label for="login-email">"Email"</label>
                <input id="login-email" type="email" name="email" autocomplete="email" required/>
                <FieldError error field="email"/>
                <label for="login-password">"Password"</label>
                <input id="login-password" type="password" name="password" autocomplete="current-password" required/>
                <FieldError error field="password"/>
                <button type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p class="muted">"New here? " <A href=register_href>"Create an account"</A></p>
        </section>
    }
}
