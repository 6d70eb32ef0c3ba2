//! Who is signed in, as the whole UI sees it: one Resource, read on the server during
//! rendering and handed to the browser with the page.

use leptos::prelude::*;

use crate::{
    models::{AppError, User},
    server_fns::auth::current_user,
};

#[derive(Clone, Copy)]
pub struct SessionContext {
    pub user: Resource<Result<Option<User>, AppError>>,
}

pub fn provide_session() {
    let user = Resource::new(|| (), |_| current_user());
    provide_context(SessionContext { user });
}

pub fn use_session() -> SessionContext {
    expect_context::<SessionContext>()
}
