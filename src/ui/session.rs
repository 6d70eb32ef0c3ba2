//! Who is signed in, as the whole page sees it while it renders on the server: one Resource
//! for the user and one for their unread count (the header's badge island keeps that live).

use leptos::prelude::*;

use crate::{
    models::{AppError, User},
    server_fns::{account::unread_count, auth::current_user},
    ui::load::resource,
};

#[derive(Clone, Copy)]
pub struct SessionContext {
    pub user: Resource<Result<Option<User>, AppError>>,
    /// The unread count when the page was rendered.
    pub unread: Resource<Result<i64, AppError>>,
}

pub fn provide_session() {
    let user = resource(|| (), |_| current_user());
    let unread = resource(|| (), |_| unread_count());
    provide_context(SessionContext { user, unread });
}

pub fn use_session() -> SessionContext {
    expect_context::<SessionContext>()
}
