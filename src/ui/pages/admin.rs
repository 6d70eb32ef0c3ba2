//! `/admin`: administrators only (403 for everyone else).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::ui::components::guard::RequireUser;

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Title text="Admin"/>
        <RequireUser admin=true view=|user| {
            view! {
                <section class="card">
                    <h1>"Administration"</h1>
                    <p>"Signed in as administrator " {user.name.clone()} "."</p>
                </section>
            }
        }/>
    }
}
