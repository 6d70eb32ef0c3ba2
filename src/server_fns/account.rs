//! The settings page's account parts: profile (name, GitHub repository for release drafts),
//! billing state, and notifications.

use leptos::prelude::*;

use crate::models::{AppError, Billing, NotificationPage};
#[cfg(feature = "ssr")]
use crate::{
    middleware::auth::renew,
    models::validation::ProfileChange,
    server_fns::ctx::Ctx,
    services::{accounts, billing, notifications, users},
};

/// Changes the signed-in user's name and GitHub repository (`owner/name`, empty to clear).
#[server(prefix = "/fn", endpoint = "update_profile")]
pub async fn update_profile(name: String, github_repo: String) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    let change = cx.check(ProfileChange::parse(Some(&name), None, Some(&github_repo)))?;
    cx.call(users::update(&cx.state.db, &user, user.id, None, change)).await?;
    Ok(())
}

/// Changes the signed-in user's password: the current one is required; the hash is renewed;
/// this session gets a new id, and every other session of the account ends. Attempts draw
/// on the strict sign-in budget (guessing the current password here is no easier than at
/// the sign-in form).
#[server(prefix = "/fn", endpoint = "change_password")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.limit_auth_attempt().await?;
    let change = cx.check(crate::models::validation::PasswordChange::parse(
        &current_password,
        &new_password,
        &confirm_password,
    ))?;
    let epoch = cx.call(accounts::change_password(&cx.state.db, &user, change)).await?;
    cx.call(renew(cx.session()?, epoch)).await?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "my_billing")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn my_billing() -> Result<Billing, AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(billing::billing(&cx.state.db, &cx.state.config, &user)).await
}

/// The unread count and the newest notifications (`limit` 1–200).
#[server(prefix = "/fn", endpoint = "my_notifications")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn my_notifications(limit: i64) -> Result<NotificationPage, AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(notifications::page(&cx.state.db, &user, limit)).await
}

/// The unread count for the header (0 when signed out). Every page renders it, so it reads
/// the session's user id and counts, without loading the account as well.
#[server(prefix = "/fn", endpoint = "unread_count")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn unread_count() -> Result<i64, AppError> {
    let cx = Ctx::get()?;
    match cx.user_id().await? {
        Some(user_id) => cx.call(notifications::unread(&cx.state.db, user_id)).await,
        None => Ok(0),
    }
}

/// Marks one notification (`id`) or all of them read.
#[server(prefix = "/fn", endpoint = "mark_read")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn mark_read(id: Option<i64>) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(notifications::mark_read(&cx.state.db, &user, id)).await.map(|_| ())
}
