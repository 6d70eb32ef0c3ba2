//! Who is signed in, as the whole UI sees it: one Resource, read on the server during
//! rendering and handed to the browser with the page. Also the live-notifications tick:
//! bumped whenever a notification arrives (or is read), so every view of them reloads.

use leptos::prelude::*;

use crate::{
    models::{AppError, User},
    server_fns::auth::current_user,
};

#[derive(Clone, Copy)]
pub struct SessionContext {
    pub user: Resource<Result<Option<User>, AppError>>,
    /// Changes when the signed-in user's notifications change.
    pub notifications: RwSignal<u64>,
}

pub fn provide_session() {
    let user = Resource::new(|| (), |_| current_user());
    provide_context(SessionContext { user, notifications: RwSignal::new(0) });
}

pub fn use_session() -> SessionContext {
    expect_context::<SessionContext>()
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
