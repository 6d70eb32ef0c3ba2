//! Who is signed in, as the whole page sees it while it renders on the server: one Resource
//! for the user and one for their unread count (the header's badge island keeps that live).
//! A request without a session cookie has nobody signed in: then nothing is loaded at all.

use leptos::prelude::*;

use crate::{
    models::{AppError, User},
    server_fns::{
        account::unread_count,
        auth::{current_user, may_be_signed_in},
    },
    ui::load::resource,
};

#[derive(Clone, Copy)]
pub struct SessionContext {
    /// `None`: the request has no session cookie, so nobody is signed in.
    loads: Option<Loads>,
}

#[derive(Clone, Copy)]
struct Loads {
    user: Resource<Result<Option<User>, AppError>>,
    /// The unread count when the page was rendered.
    unread: Resource<Result<i64, AppError>>,
}

impl SessionContext {
    /// Known to be signed out without asking (no session cookie).
    pub fn signed_out(self) -> bool {
        self.loads.is_none()
    }

    /// The signed-in user, or `None`.
    pub async fn user(self) -> Result<Option<User>, AppError> {
        match self.loads {
            Some(l) => l.user.await,
            None => Ok(None),
        }
    }

    /// The signed-in user's unread count (0 when it cannot be read).
    pub async fn unread(self) -> i64 {
        match self.loads {
            Some(l) => l.unread.await.unwrap_or(0),
            None => 0,
        }
    }
}

pub fn provide_session() {
    let loads = may_be_signed_in()
        .then(|| Loads { user: resource(|| (), |_| current_user()), unread: resource(|| (), |_| unread_count()) });
    provide_context(SessionContext { loads });
}

pub fn use_session() -> SessionContext {
    expect_context::<SessionContext>()
}
