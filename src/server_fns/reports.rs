//! The `/reports` page. With JavaScript the page posts to `POST /api/v1/reports` and shows
//! the streamed progress; without it, this form's server function runs the same export to
//! the end and the page lists it for download.

use leptos::prelude::*;

use crate::models::{AppError, ReportInfo};
#[cfg(feature = "ssr")]
use crate::{server_fns::ctx::Ctx, services::reports};

#[server(prefix = "/fn", endpoint = "my_reports")]
pub async fn my_reports() -> Result<Vec<ReportInfo>, AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    reports::list(&cx.state.db, &user).await.map_err(|e| cx.fail(e))
}

#[server(prefix = "/fn", endpoint = "export_report")]
pub async fn export_report(
    kind: String,
    format: String,
    from: Option<String>,
    to: Option<String>,
) -> Result<ReportInfo, AppError> {
    let cx = Ctx::get()?;
    let user = cx.signed_in().await?;
    let req = reports::ReportRequest::parse(&kind, &format, from.as_deref(), to.as_deref()).map_err(|e| cx.fail(e))?;
    // The export runs in its own task (a request timeout must not cut it short). A small one
    // is waited for, so the page comes back with it; a big one finishes in the background and
    // the page lists it as running until then (and a `report.ready` notification follows).
    // Nobody watches the progress here: the receiver is dropped at once, so sends fail fast.
    let launched = reports::launch(&cx.state.export_context(), &user, req).await.map_err(|e| cx.fail(e))?;
    let (report, task) = (launched.report, launched.task);
    match tokio::time::timeout(std::time::Duration::from_secs(5), task).await {
        Ok(Ok(done)) => done.map_err(|e| cx.fail(e)),
        Ok(Err(e)) => Err(cx.fail(crate::error::Error::from(e))),
        Err(_) => Ok(report),
    }
}
