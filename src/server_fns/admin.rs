//! `/admin`'s data and actions: webhook deliveries and jobs (with retry), users (search,
//! role) and the audit log. Administrators only.

use leptos::prelude::*;

use crate::models::{ops::OpsSnapshot, AdminOverview, AppError};
#[cfg(feature = "ssr")]
use crate::{
    error::Error,
    models::{validation::ProfileChange, Role},
    server_fns::ctx::Ctx,
    services::{admin, users},
};

#[server(prefix = "/fn", endpoint = "admin_data")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn admin_data(search: String) -> Result<AdminOverview, AppError> {
    let cx = Ctx::get()?;
    let actor = cx.signed_in().await?;
    let search = search.trim();
    cx.call(admin::overview(&cx.state.db, &actor, (!search.is_empty()).then_some(search))).await
}

/// This node's live operations numbers, the last two minutes (the dashboard's first paint).
#[server(prefix = "/fn", endpoint = "ops_numbers")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn ops_numbers() -> Result<OpsSnapshot, AppError> {
    let cx = Ctx::get()?;
    let actor = cx.signed_in().await?;
    cx.check(users::require_admin(&actor))?;
    Ok(cx.state.ops.snapshot())
}

/// Puts a failed job back in the queue.
#[server(prefix = "/fn", endpoint = "retry_job")]
pub async fn retry_job(id: i64) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let actor = cx.signed_in().await?;
    cx.call(admin::retry_job(&cx.state.db, &cx.state.queue, &actor, id)).await
}

/// Processes a failed webhook delivery again.
#[server(prefix = "/fn", endpoint = "retry_webhook")]
pub async fn retry_webhook(id: i64) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let actor = cx.signed_in().await?;
    cx.call(admin::retry_webhook(&cx.state.db, &cx.state.queue, &actor, id)).await
}

/// Changes a user's role.
#[server(prefix = "/fn", endpoint = "set_role")]
pub async fn set_role(id: i64, role: String) -> Result<(), AppError> {
    let cx = Ctx::get()?;
    let admin = cx.signed_in().await?;
    let role = Role::parse(role.trim()).ok_or_else(|| cx.fail(Error::field("role", "Choose user or admin.")))?;
    let change = ProfileChange::default().with_role(Some(role));
    cx.call(users::update(&cx.state.db, &admin, id, None, change)).await.map(|_| ())
}
