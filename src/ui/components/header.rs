//! The site header: name, navigation, and the signed-in user or Sign in / Register.

use leptos::{either::Either, prelude::*};
use leptos_router::components::A;

use crate::{
    server_fns::{account::unread_count, auth::Logout},
    ui::{
        browser::use_event_stream,
        session::{use_session, NOTIFICATION_KINDS},
    },
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
                                Ok(Some(user)) => Either::Left(view! {
                                    <A href="/dashboard">"Dashboard"</A>
                                    <A href="/reports">"Reports"</A>
                                    <A href="/settings">"Settings"</A>
                                    <UnreadBadge/>
                                    {user.is_admin().then(|| view! { <A href="/admin">"Admin"</A> })}
                                    <span class="who" data-testid="current-user">{user.name.clone()}</span>
                                    <ActionForm action=logout attr:class="inline-form">
                                        <button type="submit" class="link-button" disabled=move || logout.pending().get()>
                                            "Sign out"
                                        </button>
                                    </ActionForm>
                                }),
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

/// The unread-notifications count, kept live by the user's event stream.
#[component]
fn UnreadBadge() -> impl IntoView {
    let session = use_session();
    let tick = session.notifications;
    use_event_stream("/api/v1/events".to_string(), NOTIFICATION_KINDS, move |_, _| tick.update(|n| *n += 1));
    let count = Resource::new(move || tick.get(), |_| unread_count());
    view! {
        <A href="/notifications" attr:class="notifications-link" attr:aria-label="Notifications">
            "Notifications "
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let n = count.await.unwrap_or(0);
                    view! { <span class="badge" class:unread={n > 0} data-testid="unread-count">{n}</span> }
                })}
            </Transition>
        </A>
    }
}
