//! The site header: name, navigation, and the signed-in user or Sign in / Register. Plain
//! links: with islands there is no client-side router to hand them to.

use leptos::{either::Either, prelude::*};

use crate::{
    models::User,
    server_fns::auth::Logout,
    ui::{islands::badge::NotificationBadge, session::use_session},
};

#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();

    view! {
        <header class="site-header">
            <div class="container header-row">
                <a href="/" class="brand">"Quire"</a>
                <nav class="main-nav" aria-label="Main">
                    <a href="/">"Posts"</a>
                    {if session.signed_out() {
                        // No session cookie: the links are known without asking, and without Suspense.
                        Either::Left(view! { <SignedOutLinks/> })
                    } else {
                        Either::Right(view! {
                            <Suspense fallback=|| ()>
                                {Suspend::new(async move {
                                    match session.user().await {
                                        Ok(Some(user)) => {
                                            let unread = session.unread().await;
                                            Either::Left(view! { <SignedInLinks user unread/> })
                                        }
                                        _ => Either::Right(view! { <SignedOutLinks/> }),
                                    }
                                })}
                            </Suspense>
                        })
                    }}
                </nav>
            </div>
        </header>
    }
}

#[component]
fn SignedInLinks(user: User, unread: i64) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <a href="/dashboard">"Dashboard"</a>
        <a href="/reports">"Reports"</a>
        <a href="/settings">"Settings"</a>
        <a href="/notifications" class="notifications-link">
            "Notifications "
            <NotificationBadge count=unread/>
        </a>
        {user.is_admin().then(|| view! { <a href="/admin">"Admin"</a> })}
        <span class="who" data-testid="current-user">{user.name}</span>
        <ActionForm action=logout attr:class="inline-form">
            <button type="submit" class="link-button" disabled=move || logout.pending().get()>
                "Sign out"
            </button>
        </ActionForm>
    }
}

#[component]
fn SignedOutLinks() -> impl IntoView {
    view! {
        <a href="/login">"Sign in"</a>
        <a href="/register" class="button small">"Register"</a>
    }
}
