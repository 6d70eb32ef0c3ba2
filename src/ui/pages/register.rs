//! `/register`: create an account; errors appear next to their fields.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    models::validation::{PASSWORD_MAX, PASSWORD_MIN},
    server_fns::auth::Register,
    ui::components::forms::{FieldError, FormError},
};

#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));

    view! {
        <Title text="Register"/>
        <section class="card auth-card">
            <h1>"Create your account"</h1>
            <FormError error/>
            <ActionForm action=action attr:class="form" attr:id="register-form">
                <input type="hidden" name="next" value=next/>
                <label for="register-name">"Name"</label>
                <input id="register-name" type="text" name="name" autocomplete="name" required maxlength="100"/>
                <FieldError error field="name"/>
                <label for="register-email">"Email"</label>
                <input id="register-email" type="email" name="email" autocomplete="email" required/>
                <FieldError error field="email"/>
                <label for="register-password">"Password"</label>
                <input
                    id="register-password"
                    type="password"
                    name="password"
                    autocomplete="new-password"
                    required
                    minlength=PASSWORD_MIN.to_string()
                    maxlength=PASSWORD_MAX.to_string()
                />
                <p class="hint">{format!("At least {PASSWORD_MIN} characters.")}</p>
                <FieldError error field="password"/>
                <button type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="muted">"Already have an account? " <A href="/login">"Sign in"</A></p>
        </section>
    }
}
