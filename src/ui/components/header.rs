//! The site header: name, navigation, and the signed-in user or Sign in / Register.

use leptos::{either::Either, prelude::*};
use leptos_router::components::A;

use crate::{
    server_fns::auth::Logout,
    ui::{islands::badge::UnreadBadge, session::use_session},
};

#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    let logout = ServerAction::<Logout>::new();

    view! {
        <header class="site-header">
            <div class="container header-row">
                <A href="/" attr:class="brand">"Quire"</A>
                <nav class="main-nav" aria-label="Main">
                    <A href="/">"Posts"</A>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match session.user.await {
                                Ok(Some(user)) => {
                                    let unread = session.unread.await.unwrap_or(0);
                                    Either::Left(view! {
                                    <A href="/dashboard">"Dashboard"</A>
                                    <A href="/reports">"Reports"</A>
                                    <A href="/settings">"Settings"</A>
                                    <A href="/notifications" attr:class="notifications-link">
                                        "Notifications "
                                        <UnreadBadge initial=unread/>
                                    </A>
                                    {user.is_admin().then(|| view! { <A href="/admin">"Admin"</A> })}
                                    <span class="who" data-testid="current-user">{user.name.clone()}</span>
                                    <ActionForm action=logout attr:class="inline-form">
                                        <button type="submit" class="link-button" disabled=move || logout.pending().get()>
                                            "Sign out"
                                        </button>
                                    </ActionForm>
                                })
                                }
                                _ => Either::Right(view! {
                                    <A href="/login">"Sign in"</A>
                                    <A href="/register" attr:class="button small">"Register"</A>
                                }),
                            }
                        })}
                    </Suspense>
                </nav>
            </div>
        </header>
    }
}
