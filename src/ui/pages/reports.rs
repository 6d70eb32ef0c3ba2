//! `/reports`: export your posts (or, for administrators, site statistics) as CSV or JSON.
//! The form, its live progress and the list are an island (`ui::islands::reports`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    models::User,
    server_fns::reports::my_reports,
    ui::load::resource,
    ui::{components::guard::RequireUser, islands::reports::Exporter},
};

#[component]
pub fn ReportsPage() -> impl IntoView {
    view! {
        <Title text="Reports"/>
        <RequireUser view=|user| view! { <Reports user/> }/>
    }
}

#[component]
fn Reports(user: User) -> impl IntoView {
    let list = resource(|| (), |_| my_reports());
    let is_admin = user.is_admin();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {Suspend::new(async move {
                match list.await {
                    Ok(reports) => view! { <Exporter is_admin reports/> }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
