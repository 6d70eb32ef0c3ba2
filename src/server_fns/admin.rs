//! `/admin`'s data and actions: webhook deliveries and jobs (with retry), users (search,
//! role) and the audit log. Administrators only.

use leptos::prelude::*;

use crate::models::{AdminOverview, AppError};
#[cfg(feature = "ssr")]
use crate::{
    db::users::ProfileChange,
    error::Error,
    models::Role,
    server_fns::ctx::Ctx,
    services::{jobs, users, webhooks},
};

#[server(prefix = "/fn", endpoint = "admin_data")]
pub async fn admin_data(search: String) -> Result<AdminOverview, AppError> {
    let cx = Ctx::get()?;
    let admin = cx.signed_in().await?;
    if !admin.is_admin() {
        return Err(cx.fail(Error::forbidden("Administrators only.")));
    }
    let search = search.trim();
    crate::services::admin::overview(&cx.state.db, &admin, (!search.is_empty()).then_some(search))
        .await
        .map_err(|e| cx.fail(e))
}

/// Puts a failed job back in the queue.
#[server(prefix = "/fn", endpoint = "retry_job")]
pub async fn retry_job(id: i64) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let admin = cx.signed_in().await?;
    if !admin.is_admin() {
        return Err(cx.fail(Error::forbidden("Administrators only.")));
    }
    jobs::retry(&cx.state.db, id).await.map_err(|e| cx.fail(e))?;
    cx.state.queue.wake();
    Ok(())
}

/// Processes a failed webhook delivery again.
#[server(prefix = "/fn", endpoint = "retry_webhook")]
pub async fn retry_webhook(id: i64) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let admin = cx.signed_in().await?;
    if !admin.is_admin() {
        return Err(cx.fail(Error::forbidden("Administrators only.")));
    }
    webhooks::retry(&cx.state.db, &cx.state.queue, id).await.map_err(|e| cx.fail(e))
}

/// Changes a user's role.
#[server(prefix = "/fn", endpoint = "set_role")]
pub async fn set_role(id: i64, role: String) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let admin = cx.signed_in().await?;
    let role = Role::parse(role.trim()).ok_or_else(|| cx.fail(Error::field("role", "Choose user or admin.")))?;
    let change = ProfileChange { role: Some(role), ..Default::default() };
    users::update(&cx.state.db, &admin, id, None, change).await.map(|_| ()).map_err(|e| cx.fail(e))
}
