//! The header's unread-notifications count, kept current by the signed-in user's event stream.

use leptos::prelude::*;

use crate::{models::NotificationKind, server_fns::account::unread_count, ui::browser::use_event_stream};

/// `initial`: the count when the page was rendered. Each notification re-reads it.
#[island(lazy)]
pub fn UnreadBadge(initial: i64) -> impl IntoView {
    let count = RwSignal::new(initial);
    use_event_stream("/api/v1/events".to_string(), NotificationKind::NAMES, move |_, _| {
        leptos::task::spawn_local(async move {
            if let Ok(n) = unread_count().await {
                count.set(n);
            }
        });
    });
    view! { <span class="badge" class:unread={move || count.get() > 0} data-testid="unread-count">{count}</span> }
}
