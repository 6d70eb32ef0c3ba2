//! The header's unread-notifications count, kept current by the signed-in user's event stream.
//!
//! It is on every signed-in page, so it stays small: no signals, resources or server-function
//! client, only the event stream, one `fetch` of the count and the span's text and class
//! (about 60 kB less brotli wasm for a first visit than the reactive version).

use leptos::prelude::*;

use crate::{models::NotificationKind, ui::browser::use_event_stream};

/// `initial`: the count when the page was rendered. Each notification re-reads it.
#[island(lazy)]
pub fn UnreadBadge(initial: i64) -> impl IntoView {
    crate::ui::browser::island_ready();
    let badge = NodeRef::<leptos::html::Span>::new();
    use_event_stream("/api/v1/events".to_string(), NotificationKind::NAMES, move |_, _| {
        #[cfg(feature = "hydrate")]
        if let Some(span) = badge.get_untracked() {
            leptos::task::spawn_local(refresh(span));
        }
    });
    view! {
        <span class="badge" class:unread=initial.gt(&0) data-testid="unread-count" node_ref=badge>{initial}</span>
    }
}

/// Reads the count (the `unread_count` server function, called by its URL) and shows it.
#[cfg(feature = "hydrate")]
async fn refresh(span: web_sys::HtmlSpanElement) {
    use leptos::server_fn::ServerFn;
    let url = crate::server_fns::account::UnreadCount::PATH;
    let Some((200..=299, text)) = crate::ui::browser::post_form(url, "").await else { return };
    let Ok(count) = text.trim().parse::<i64>() else { return };
    span.set_text_content(Some(&count.to_string()));
    let _ = span.class_list().toggle_with_force("unread", count > 0);
}
