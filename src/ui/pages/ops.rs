//! `/admin/ops`: the live operations dashboard (administrators only).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    server_fns::admin::ops_numbers,
    ui::load::resource,
    ui::{components::guard::RequireUser, islands::ops::OpsCharts},
};

#[component]
pub fn OpsPage() -> impl IntoView {
    view! {
        <Title text="Live operations"/>
        <RequireUser admin=true view=|_user| view! { <Ops/> }/>
    }
}

#[component]
fn Ops() -> impl IntoView {
    let snapshot = resource(|| (), |_| ops_numbers());
    view! {
        <h1>"Live operations"</h1>
        <p class="muted">
            "This node, the last two minutes, one point per second (the numbers " <code>"/metrics"</code>
            " exposes on " <code>"QUIRE_METRICS_ADDR"</code> "). "
            <a href="/admin">"Administration"</a>
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {Suspend::new(async move {
                match snapshot.await {
                    Ok(initial) => view! { <OpsCharts initial/> }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
