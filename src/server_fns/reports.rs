//! The `/reports` page. With JavaScript the page posts to `POST /api/v1/reports` and shows
//! the streamed progress; without it, this form's server function runs the same export to
//! the end and the page lists it for download.

use leptos::prelude::*;

use crate::models::{AppError, ReportInfo};
#[cfg(feature = "ssr")]
use crate::{server_fns::ctx::Ctx, services::reports};

#[server(prefix = "/fn", endpoint = "my_reports")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn my_reports() -> Result<Vec<ReportInfo>, AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    cx.call(reports::list(&cx.state.db, &user)).await
}

#[server(prefix = "/fn", endpoint = "export_report")]
#[middleware(crate::middleware::http_cache::KeepsPublicCache)]
pub async fn export_report(
    kind: String,
    format: String,
    from: Option<String>,
    to: Option<String>,
) -> Result<ReportInfo, AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    let req = cx.check(reports::ReportRequest::parse(&kind, &format, from.as_deref(), to.as_deref()))?;
    // The page comes back with a small export finished; a big one is listed as running.
    let patience = std::time::Duration::from_secs(5);
    cx.call(reports::export_waiting(&cx.state.export_context(), &user, req, patience)).await
}
