//! `/dashboard`: the signed-in user's home (their posts arrive with publishing).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::ui::components::guard::RequireUser;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard"/>
        <RequireUser view=|user| {
            view! {
                <section class="card">
                    <h1>"Dashboard"</h1>
                    <p data-testid="dashboard-greeting">"Signed in as " <strong>{user.name.clone()}</strong> " (" {user.email.clone()} ")."</p>
                    <dl class="facts">
                        <dt>"Role"</dt><dd>{user.role.as_str()}</dd>
                        <dt>"Plan"</dt><dd>{user.plan.as_str()}</dd>
                        <dt>"Member since"</dt><dd>{user.created_at.format("%Y-%m-%d").to_string()}</dd>
                    </dl>
                </section>
            }
        }/>
    }
}
