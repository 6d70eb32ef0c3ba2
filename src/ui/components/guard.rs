//! Pages for signed-in users: a signed-out visitor is sent to `/login?next=<this page>`,
//! a non-admin on an admin page gets a real 403 page.

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location, location::Url};

use crate::{
    models::User,
    ui::{pages::not_found::Forbidden, session::use_session},
};

#[component]
pub fn RequireUser<F, V>(
    /// Only administrators may see the content.
    #[prop(optional)]
    admin: bool,
    /// Renders the page for the signed-in user.
    view: F,
) -> impl IntoView
where
    F: FnOnce(User) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let session = use_session();
    let location = use_location();

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            // A Suspend, not a closure (see `ui::load`): the page and its resources are built once.
            {Suspend::new(async move {
                match session.user().await {
                    Ok(Some(user)) if !admin || user.is_admin() => view(user).into_any(),
                    Ok(Some(_)) => view! { <Forbidden/> }.into_any(),
                    Ok(None) => {
                        let (path, search) = (location.pathname.get_untracked(), location.search.get_untracked());
                        let here = if search.is_empty() { path } else { format!("{path}?{search}") };
                        view! { <Redirect path=format!("/login?next={}", Url::escape(&here))/> }.into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
