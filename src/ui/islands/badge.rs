//! The header's unread-notifications count, kept current by the signed-in user's event stream.
//!
//! It is on every signed-in page, so it stays small: no signals, resources, server-function
//! client or props (an island with props deserialises them with serde_json), only the event
//! stream, one `fetch` of the count and the span's text and class. The span itself is
//! rendered by the server ([`NotificationBadge`]) and handed in as the island's children.

use leptos::prelude::*;

use crate::{models::NotificationKind, ui::browser::use_event_stream};

/// The badge: `count` when the page was rendered; each notification re-reads it.
#[component]
pub fn NotificationBadge(count: i64) -> impl IntoView {
    view! {
        <UnreadBadge>
            <span class="badge" class:unread=count.gt(&0) data-testid="unread-count">{count}</span>
        </UnreadBadge>
    }
}

/// Keeps the badge in its children current.
#[island(lazy)]
pub fn UnreadBadge(children: Children) -> impl IntoView {
    crate::ui::browser::island_ready();
    use_event_stream("/api/v1/events".to_string(), NotificationKind::NAMES, move |_, _| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(refresh());
    });
    children()
}

/// Reads the count (the `unread_count` server function, called by its URL) and shows it.
#[cfg(feature = "hydrate")]
async fn refresh() {
    use leptos::server_fn::ServerFn;
    let url = crate::server_fns::account::UnreadCount::PATH;
    let Some((200..=299, text)) = crate::ui::browser::post_form(url, "").await else { return };
    let Ok(count) = text.trim().parse::<i64>() else { return };
    let Some(span) = document().query_selector("[data-testid=unread-count]").ok().flatten() else { return };
    span.set_text_content(Some(&count.to_string()));
    let _ = span.class_list().toggle_with_force("unread", count > 0);
}
