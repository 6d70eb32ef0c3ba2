//! Who is signed in, as the whole UI sees it: one Resource, read on the server during
//! rendering and handed to the browser with the page. Also the notifications state: the
//! unread count rendered with the page, a live count the event stream keeps current, and
//! a tick that changes whenever notifications change (views of them reload on it).

use leptos::prelude::*;

use crate::{
    models::{AppError, User},
    server_fns::{account::unread_count, auth::current_user},
};

#[derive(Clone, Copy)]
pub struct SessionContext {
    pub user: Resource<Result<Option<User>, AppError>>,
    /// The unread count when the page was rendered.
    pub unread: Resource<Result<i64, AppError>>,
    /// The unread count since then (set in the browser as notifications arrive or are read).
    pub live_unread: RwSignal<Option<i64>>,
    /// Changes when the signed-in user's notifications change.
    pub notifications: RwSignal<u64>,
}

pub fn provide_session() {
    let user = Resource::new(|| (), |_| current_user());
    let unread = Resource::new(|| (), |_| unread_count());
    provide_context(SessionContext { user, unread, live_unread: RwSignal::new(None), notifications: RwSignal::new(0) });
}

pub fn use_session() -> SessionContext {
    expect_context::<SessionContext>()
}

impl SessionContext {
    /// Notifications changed (one arrived, or some were read): reload the views of them and
    /// the unread count. Browser only.
    pub fn notifications_changed(self) {
        self.notifications.update(|n| *n += 1);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            if let Ok(n) = unread_count().await {
                self.live_unread.set(Some(n));
            }
        });
    }
}

/// The notification kinds the event stream carries.
pub const NOTIFICATION_KINDS: &[&str] = &[
    "comment.created",
    "post.liked",
    "post.published",
    "subscription.updated",
    "report.ready",
    "payment.failed",
    "post.drafted",
];
