//! Report exports: the caller's posts, or (administrators) site activity per day, as CSV
//! or JSON. This module is the export's lifecycle — checking the request and the limits,
//! recording it, running it in its own task, reporting progress, raising `report.ready`,
//! serving and purging files; [`writer`] turns rows into the file in bounded memory.
//!
//! Exports are bounded: at most `QUIRE_EXPORTS_PER_USER` running per user and
//! `QUIRE_EXPORTS_MAX` per process (beyond: 429), and an export borrows a pooled
//! connection one page at a time, so even a long one cannot starve requests of the pool.

mod writer;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::json;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::{events::Bus, notifications};
use crate::{
    db::{self, reports::ReportRow, Db},
    error::{Error, Result},
    models::{
        AppError, ErrorCode, FieldError, NotificationKind, ReportFormat, ReportInfo, ReportKind, ReportStatus, User,
    },
};

/// A validated export request.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub kind: ReportKind,
    pub format: ReportFormat,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

impl ReportRequest {
    /// From loose input (a form or JSON): `from`/`to` as `YYYY-MM-DD` (whole days, `to`
    /// included) or RFC 3339 instants.
    pub fn parse(kind: &str, format: &str, from: Option<&str>, to: Option<&str>) -> Result<Self> {
        let mut errors = Vec::new();
        let kind = ReportKind::parse(kind.trim());
        if kind.is_none() {
            errors.push(FieldError::new("kind", "Choose my_posts or site_stats."));
        }
        let format = ReportFormat::parse(format.trim());
        if format.is_none() {
            errors.push(FieldError::new("format", "Choose csv or json."));
        }
        let mut instant = |field: &str, raw: Option<&str>, end: bool| -> Option<DateTime<Utc>> {
            let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
            let parsed = match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                Ok(d) => Some(if end { d.succ_opt().unwrap_or(d) } else { d }.and_time(NaiveTime::MIN).and_utc()),
                Err(_) => DateTime::parse_from_rfc3339(raw).ok().map(|t| t.with_timezone(&Utc)),
            };
            match parsed {
                Some(t) if (1970..=9999).contains(&chrono::Datelike::year(&t)) => Some(t),
                Some(_) => {
                    errors.push(FieldError::new(field, "Use a date between 1970 and 9999."));
                    None
                }
                None => {
                    errors.push(FieldError::new(field, "Use a date like 2026-01-31 or an RFC 3339 time."));
                    None
                }
            }
        };
        let from_t = instant("from", from, false);
        let to_t = instant("to", to, true);
        if let (Some(f), Some(t)) = (from_t, to_t) {
            if f >= t {
                errors.push(FieldError::new("to", "Must not be before `from`."));
            }
        }
        match (kind, format) {
            (Some(kind), Some(format)) if errors.is_empty() => {
                Ok(ReportRequest { kind, format, from: from_t, to: to_t })
            }
            _ => Err(Error::validation(errors)),
        }
    }
}

/// Progress as the export stream reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Progress {
    /// `started`, `processing`, `complete` or `error`.
    pub status: ReportStatus,
    /// 0–100.
    pub progress: u8,
    pub rows: i64,
    pub total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub fn file_name(kind: ReportKind, format: ReportFormat, created: DateTime<Utc>) -> String {
    format!("quire-{}-{}.{}", kind.as_str().replace('_', "-"), created.format("%Y%m%d-%H%M%S"), format.as_str())
}

fn info(row: &ReportRow) -> ReportInfo {
    let kind = ReportKind::parse(&row.kind).unwrap_or(ReportKind::MyPosts);
    let format = ReportFormat::parse(&row.format).unwrap_or(ReportFormat::Csv);
    ReportInfo {
        id: row.id.clone(),
        kind,
        format,
        status: ReportStatus::parse(&row.status).unwrap_or(ReportStatus::Error),
        row_count: row.row_count,
        byte_size: row.byte_size,
        error: row.error.clone(),
        created_at: row.created_at,
        completed_at: row.completed_at,
        download_url: format!("/api/v1/reports/{}/download", row.id),
        file_name: file_name(kind, format, row.created_at),
    }
}

/// Where a report's file lives.
pub(crate) fn path_of(dir: &Path, id: &str, format: ReportFormat) -> PathBuf {
    dir.join(format!("{id}.{}", format.as_str()))
}

/// The export limits of this process: a slot per running export, and how many each user holds.
#[derive(Clone)]
pub struct Exports {
    slots: Arc<Semaphore>,
    per_user: usize,
    running: Arc<Mutex<HashMap<i64, usize>>>,
}

/// A running export's claim on its slots; released when the export ends (dropped).
pub struct ExportPermit {
    _slot: OwnedSemaphorePermit,
    user_id: i64,
    running: Arc<Mutex<HashMap<i64, usize>>>,
}

impl Drop for ExportPermit {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = running.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.user_id);
            }
        }
    }
}

impl Exports {
    pub fn new(max_running: usize, per_user: usize) -> Self {
        Exports {
            slots: Arc::new(Semaphore::new(max_running.max(1))),
            per_user: per_user.max(1),
            running: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A slot for `user_id`'s next export, or 429 when they (or this server) run too many.
    pub fn try_acquire(&self, user_id: i64) -> Result<ExportPermit> {
        let busy = |message: &str| Error::App(AppError::new(ErrorCode::RateLimited, message));
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let mine = running.get(&user_id).copied().unwrap_or(0);
        if mine >= self.per_user {
            return Err(busy("Your previous export is still running; wait for it to finish, then export again."));
        }
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy("The server is busy with other exports; try again in a minute."))?;
        *running.entry(user_id).or_insert(0) += 1;
        Ok(ExportPermit { _slot: slot, user_id, running: self.running.clone() })
    }

    /// Exports running now in this process.
    pub fn running(&self) -> usize {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).values().sum()
    }
}

/// What an export needs from the application.
pub struct ExportContext<'a> {
    pub db: &'a Db,
    pub bus: &'a Bus,
    pub exports: &'a Exports,
    pub dir: &'a Path,
}

/// A started export: its record, its progress, and the task writing it.
pub struct Launched {
    pub report: ReportInfo,
    pub progress: mpsc::Receiver<Progress>,
    pub task: tokio::task::JoinHandle<Result<ReportInfo>>,
}

/// Starts an export for `user`: checks the request and the limits, records the report as
/// `running` and writes it in its own task (a client that goes away does not stop it).
pub async fn launch(cx: &ExportContext<'_>, user: &User, req: ReportRequest) -> Result<Launched> {
    if req.kind == ReportKind::SiteStats && !user.is_admin() {
        return Err(Error::forbidden("Site statistics are for administrators."));
    }
    let permit = cx.exports.try_acquire(user.id)?;
    let report = start(cx.db, user, &req).await?;
    let (tx, progress) = mpsc::channel::<Progress>(64);
    let (db, bus, dir, user, running) =
        (cx.db.clone(), cx.bus.clone(), cx.dir.to_path_buf(), user.clone(), report.clone());
    let task = tokio::spawn(async move {
        let done = generate(&db, &bus, &dir, &user, &running, &req, &tx).await;
        if let Err(Error::Internal(cause)) = &done {
            tracing::error!(error = %cause, report = %running.id, "report export failed");
        }
        // The slot is free before the client sees the stream end (so its next export may start).
        drop(permit);
        drop(tx);
        done
    });
    Ok(Launched { report, progress, task })
}

/// Starts an export nobody watches (a form without a progress stream) and waits up to
/// `patience` for it: a small one comes back finished, a big one comes back `running` and
/// finishes in the background (a `report.ready` notification follows).
pub async fn export_waiting(
    cx: &ExportContext<'_>,
    user: &User,
    req: ReportRequest,
    patience: std::time::Duration,
) -> Result<ReportInfo> {
    // The receiver is dropped at once, so progress sends fail fast.
    let Launched { report, task, .. } = launch(cx, user, req).await?;
    match tokio::time::timeout(patience, task).await {
        Ok(joined) => joined?,
        Err(_) => Ok(report),
    }
}

/// Checks the request against the caller and records the report as `running`.
async fn start(db: &Db, user: &User, req: &ReportRequest) -> Result<ReportInfo> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut conn = db.acquire().await?;
    db::reports::insert(conn.conn(), &id, user.id, req.kind.as_str(), req.format.as_str(), Utc::now()).await?;
    let row = db::reports::find(conn.conn(), &id).await?.ok_or_else(|| Error::internal_msg("report vanished"))?;
    Ok(info(&row))
}

/// Writes the report's file, sending progress to `progress` (a closed receiver — the
/// client went away — does not stop the export). Returns the finished report.
async fn generate(
    db: &Db,
    bus: &Bus,
    dir: &Path,
    user: &User,
    report: &ReportInfo,
    req: &ReportRequest,
    progress: &mpsc::Sender<Progress>,
) -> Result<ReportInfo> {
    let send = |p: Progress| {
        // Progress updates may be dropped if the reader is slow; the final one is awaited below.
        let _ = progress.try_send(p);
    };
    send(Progress { status: ReportStatus::Started, progress: 0, rows: 0, total: 0, report: None, error: None });
    let result = writer::write_file(db, dir, user, report, req, &send).await;
    let mut conn = db.acquire().await?;
    let now = Utc::now();
    match result {
        Ok((rows, bytes)) => {
            db::reports::finish(conn.conn(), &report.id, ReportStatus::Complete, rows, bytes, None, now).await?;
            let row = db::reports::find(conn.conn(), &report.id)
                .await?
                .ok_or_else(|| Error::internal_msg("report vanished"))?;
            let done = info(&row);
            let data = json!({ "report_id": done.id, "kind": done.kind.as_str(), "format": done.format.as_str(),
                               "rows": rows, "url": done.download_url });
            let n = notifications::raise(conn.conn(), user.id, NotificationKind::ReportReady, &data).await?;
            drop(conn);
            notifications::deliver(bus, [n]);
            let _ = progress
                .send(Progress {
                    status: ReportStatus::Complete,
                    progress: 100,
                    rows,
                    total: rows,
                    report: Some(done.clone()),
                    error: None,
                })
                .await;
            Ok(done)
        }
        Err(e) => {
            let message = e.public().message;
            db::reports::finish(conn.conn(), &report.id, ReportStatus::Error, 0, 0, Some(&message), now).await?;
            let _ = tokio::fs::remove_file(path_of(dir, &report.id, report.format)).await;
            let _ = progress
                .send(Progress {
                    status: ReportStatus::Error,
                    progress: 100,
                    rows: 0,
                    total: 0,
                    report: None,
                    error: Some(message),
                })
                .await;
            Err(e)
        }
    }
}

/// The caller's recent reports.
pub async fn list(db: &Db, user: &User) -> Result<Vec<ReportInfo>> {
    let mut conn = db.acquire().await?;
    Ok(db::reports::for_user(conn.conn(), user.id, 20).await?.iter().map(info).collect())
}

/// A complete report's record and file, for its owner (or an administrator).
pub async fn open(db: &Db, dir: &Path, user: &User, id: &str) -> Result<(ReportInfo, PathBuf)> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::not_found("No such report."));
    }
    let mut conn = db.acquire().await?;
    let row = db::reports::find(conn.conn(), id).await?.ok_or_else(|| Error::not_found("No such report."))?;
    if row.user_id != user.id && !user.is_admin() {
        return Err(Error::not_found("No such report."));
    }
    let report = info(&row);
    if report.status != ReportStatus::Complete {
        return Err(Error::App(crate::models::AppError::conflict("This report is not complete.")));
    }
    let path = path_of(dir, &report.id, report.format);
    Ok((report, path))
}

/// How long exports are kept.
pub const RETENTION_DAYS: i64 = 7;

/// Deletes exports older than [`RETENTION_DAYS`], files and records; returns how many.
pub async fn purge(db: &Db, dir: &Path) -> Result<usize> {
    let before = Utc::now() - chrono::Duration::days(RETENTION_DAYS);
    let mut removed = 0;
    loop {
        let mut conn = db.acquire().await?;
        let old = db::reports::created_before(conn.conn(), before, 500).await?;
        if old.is_empty() {
            return Ok(removed);
        }
        for (id, format) in &old {
            let path = dir.join(format!("{id}.{format}"));
            if let Err(e) = tokio::fs::remove_file(&path).await {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(Error::internal(e));
                }
            }
            db::reports::delete(conn.conn(), id).await?;
            removed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_days_and_checked() {
        let r = ReportRequest::parse("my_posts", "csv", Some("2026-01-01"), Some("2026-01-31")).unwrap();
        assert_eq!(r.from.unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(r.to.unwrap().to_rfc3339(), "2026-02-01T00:00:00+00:00");
        let e = ReportRequest::parse("everything", "xml", Some("yesterday"), None).unwrap_err().public();
        let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["kind", "format", "from"]);
        assert!(ReportRequest::parse("my_posts", "json", Some("2026-02-01"), Some("2026-01-01")).is_err());
    }
}
