//! `/notifications`: the signed-in user's notifications, newest first; mark one or all read
//! (plain forms: the page comes back with the new state, and the header's count with it).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    models::time,
    server_fns::account::{my_notifications, MarkRead},
    ui::components::guard::RequireUser,
    ui::load::resource,
};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    view! {
        <Title text="Notifications"/>
        <RequireUser view=|_user| view! { <Notifications/> }/>
    }
}

#[component]
fn Notifications() -> impl IntoView {
    let mark = ServerAction::<MarkRead>::new();
    let list = resource(|| (), |_| my_notifications(100));
    view! {
        <section class="card">
            <div class="row-between">
                <h1>"Notifications"</h1>
                <ActionForm action=mark attr:class="inline-form">
                    <button type="submit" class="button small" data-testid="mark-all-read">"Mark all read"</button>
                </ActionForm>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {Suspend::new(async move {
                    match list.await {
                        Ok(page) if page.items.is_empty() => view! { <p class="muted" data-testid="no-notifications">"Nothing yet."</p> }.into_any(),
                        Ok(page) => view! {
                            <p class="muted">{page.unread} " unread"</p>
                            <ul class="notification-list" data-testid="notification-list">
                                {page.items.into_iter().map(|n| {
                                    let unread = n.read_at.is_none();
                                    let when = time::minute(&n.created_at);
                                    let summary = n.summary();
                                    view! {
                                        <li class="notification" class:unread=unread data-kind=n.kind.as_str()>
                                            {match n.link() {
                                                Some(href) => view! { <a href=href>{summary}</a> }.into_any(),
                                                None => view! { <span>{summary}</span> }.into_any(),
                                            }}
                                            <span class="muted">" · " {when}</span>
                                            {unread.then(|| view! {
                                                <ActionForm action=mark attr:class="inline-form">
                                                    <input type="hidden" name="id" value=n.id/>
                                                    <button type="submit" class="link-button">"Mark read"</button>
                                                </ActionForm>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
