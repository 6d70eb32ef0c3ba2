//! Report exports. `POST /api/v1/reports` answers with a `text/event-stream` of progress
//! (`started`, `processing`…, then `complete` with the download URL, or `error`) while the
//! export is written in bounded memory; `GET /api/v1/reports` lists the caller's exports and
//! `GET /api/v1/reports/{id}/download` serves one with its content type and file name.
//! The export runs in its own task: a client that disconnects does not stop it, and its
//! `report.ready` notification still arrives.

use std::convert::Infallible;

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderValue},
    response::{sse::Event as SseEvent, IntoResponse, Response},
};
use futures_util::StreamExt;
use serde::Deserialize;

use super::extract::Json;
use crate::middleware::problem::Problem;
use crate::{
    error::{Error, Result},
    middleware::auth::{Caller, Writer},
    models::ReportInfo,
    services::reports::{self, ReportRequest},
    state::AppState,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// `my_posts`, or `site_stats` (administrators).
    pub kind: String,
    /// `csv` or `json`.
    pub format: String,
    /// First day (YYYY-MM-DD) or instant (RFC 3339) to include.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD, included) or instant (RFC 3339, excluded).
    pub to: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/reports", tag = "reports",
    request_body = NewReport,
    responses(
        (status = 200, description = "text/event-stream of `{status: started|processing|complete|error, progress: 0-100, rows, total}`; `complete` carries `download_url` and `report`", content_type = "text/event-stream"),
        (status = 403, description = "site_stats for a non-administrator, or a read-only token", body = Problem),
        (status = 422, description = "Invalid kind, format or dates", body = Problem),
        (status = 429, description = "An export of yours is still running, or the server runs its maximum", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Json(body): Json<NewReport>,
) -> Result<Response> {
    let req = ReportRequest::parse(&body.kind, &body.format, body.from.as_deref(), body.to.as_deref())?;
    let launched = reports::launch(&state.export_context(), &caller.user, req).await?;
    let events = futures_util::stream::unfold(launched.progress, |mut rx| async move {
        let p = rx.recv().await?;
        let mut data = serde_json::to_value(&p).unwrap_or_default();
        if let Some(r) = &p.report {
            data["download_url"] = serde_json::Value::String(r.download_url.clone());
        }
        let ev = SseEvent::default().event(p.status.as_str()).data(data.to_string());
        Some((Ok::<_, Infallible>(ev), rx))
    });
    let mut res = super::events::sse_response(&state, events, None);
    res.headers_mut().insert("x-report-id", HeaderValue::from_str(&launched.report.id).map_err(Error::internal)?);
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/reports", tag = "reports",
    responses((status = 200, description = "The caller's 20 newest exports", body = Vec<ReportInfo>)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let list = reports::list(&state.db, &caller.user).await?;
    Ok(([(header::CACHE_CONTROL, "private, no-cache")], axum::Json(list)))
}

#[utoipa::path(get, path = "/api/v1/reports/{id}/download", tag = "reports",
    params(("id" = String, Path, description = "Report id")),
    responses((status = 200, description = "The file (text/csv or application/json) as an attachment"),
              (status = 404, description = "No such report of yours", body = Problem),
              (status = 409, description = "Not complete", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn download(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response> {
    let (report, path) = reports::open(&state.db, &state.config.report_dir, &caller.user, &id).await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| Error::not_found("The report's file is gone; export it again."))?;
    let len = file.metadata().await.map_err(Error::internal)?.len();
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).map(|r| r));
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(report.format.content_type()));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let disposition = format!("attachment; filename=\"{}\"", report.file_name);
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(Error::internal)?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(res)
}
