//! Report exports: the caller's posts, or (administrators) site activity per day, as CSV
//! or JSON. Rows stream from the database into a buffered file one at a time, so memory
//! stays flat however many rows there are; progress is reported as it goes, and a
//! `report.ready` notification is raised when the file is complete.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use futures_util::StreamExt;
use serde_json::json;
use tokio::{io::AsyncWriteExt, sync::mpsc};

use super::{events::Bus, notifications};
use crate::{
    db::{self, reports::ReportRow, Db},
    error::{Error, Result},
    models::{FieldError, ReportFormat, ReportInfo, ReportKind, User},
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
    pub status: &'static str,
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
        status: row.status.clone(),
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
fn path_of(dir: &Path, id: &str, format: ReportFormat) -> PathBuf {
    dir.join(format!("{id}.{}", format.as_str()))
}

/// Checks the request against the caller and records the report as `running`.
pub async fn start(db: &Db, user: &User, req: &ReportRequest) -> Result<ReportInfo> {
    if req.kind == ReportKind::SiteStats && !user.is_admin() {
        return Err(Error::forbidden("Site statistics are for administrators."));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut conn = db.acquire().await?;
    db::reports::insert(conn.conn(), &id, user.id, req.kind.as_str(), req.format.as_str(), Utc::now()).await?;
    let row = db::reports::find(conn.conn(), &id).await?.ok_or_else(|| Error::internal_msg("report vanished"))?;
    Ok(info(&row))
}

/// Writes the report's file, sending progress to `progress` (a closed receiver — the
/// client went away — does not stop the export). Returns the finished report.
pub async fn generate(
    db: &Db,
    bus: &Bus,
    dir: &Path,
    user: &User,
    report: &ReportInfo,
    req: &ReportRequest,
    progress: mpsc::Sender<Progress>,
) -> Result<ReportInfo> {
    let send = |p: Progress| {
        // Progress updates may be dropped if the reader is slow; the final one is awaited below.
        let _ = progress.try_send(p);
    };
    send(Progress { status: "started", progress: 0, rows: 0, total: 0, report: None, error: None });
    let result = write_file(db, dir, user, report, req, &send).await;
    let mut conn = db.acquire().await?;
    let now = Utc::now();
    match result {
        Ok((rows, bytes)) => {
            db::reports::finish(conn.conn(), &report.id, "complete", rows, bytes, None, now).await?;
            let row = db::reports::find(conn.conn(), &report.id)
                .await?
                .ok_or_else(|| Error::internal_msg("report vanished"))?;
            let done = info(&row);
            let data = json!({ "report_id": done.id, "kind": done.kind.as_str(), "format": done.format.as_str(),
                               "rows": rows, "url": done.download_url });
            let n = notifications::raise(conn.conn(), user.id, "report.ready", &data).await?;
            drop(conn);
            notifications::deliver(bus, [n]);
            let _ = progress
                .send(Progress {
                    status: "complete",
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
            db::reports::finish(conn.conn(), &report.id, "error", 0, 0, Some(&message), now).await?;
            let _ = tokio::fs::remove_file(path_of(dir, &report.id, report.format)).await;
            let _ = progress
                .send(Progress {
                    status: "error",
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

/// Rows read per query: memory holds one page at a time.
const PAGE: i64 = 1000;

/// Rows are formatted into a small reused buffer and written through a 64 KiB buffered file.
async fn write_file(
    db: &Db,
    dir: &Path,
    user: &User,
    report: &ReportInfo,
    req: &ReportRequest,
    send: &impl Fn(Progress),
) -> Result<(i64, i64)> {
    tokio::fs::create_dir_all(dir).await.map_err(Error::internal)?;
    let path = path_of(dir, &report.id, report.format);
    let file = tokio::fs::File::create(&path).await.map_err(Error::internal)?;
    let mut out = tokio::io::BufWriter::with_capacity(64 * 1024, file);
    // Open ends as dates both databases store and compare like any other (SQLite compares
    // timestamps as text, so no years beyond 9999 or before 0).
    let from = req.from.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let to = req.to.unwrap_or_else(|| {
        NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default().and_time(NaiveTime::MIN).and_utc()
    });
    let mut conn = db.acquire().await?;
    let total = match req.kind {
        ReportKind::MyPosts => db::reports::count_posts(conn.conn(), user.id, from, to).await?,
        ReportKind::SiteStats => db::reports::count_days(conn.conn(), from, to).await?,
    };
    let mut sink = RowSink::new(report.format, total, send);
    match req.kind {
        ReportKind::MyPosts => {
            sink.header(
                &[
                    "id",
                    "title",
                    "slug",
                    "category",
                    "published",
                    "published_at",
                    "created_at",
                    "updated_at",
                    "likes",
                    "comments",
                ],
                &mut out,
            )
            .await?;
            let mut after = None;
            loop {
                let page = db::reports::posts_page(conn.conn(), user.id, from, to, after, PAGE).await?;
                for r in &page {
                    let record = json!({
                        "id": r.id, "title": r.title, "slug": r.slug, "category": r.category, "published": r.published,
                        "published_at": r.published_at.map(|t| t.to_rfc3339()), "created_at": r.created_at.to_rfc3339(),
                        "updated_at": r.updated_at.to_rfc3339(), "likes": r.likes, "comments": r.comments,
                    });
                    sink.row(&record, &mut out).await?;
                }
                match page.last() {
                    Some(last) if page.len() as i64 == PAGE => after = Some((last.created_at, last.id)),
                    _ => break,
                }
            }
        }
        ReportKind::SiteStats => {
            sink.header(&["day", "posts", "comments", "likes", "users"], &mut out).await?;
            let mut rows = db::reports::stream_days(conn.conn(), from, to);
            while let Some(row) = rows.next().await {
                let r = row?;
                let record = json!({ "day": r.day, "posts": r.posts, "comments": r.comments, "likes": r.likes, "users": r.users });
                sink.row(&record, &mut out).await?;
            }
        }
    }
    sink.finish(&mut out).await?;
    out.flush().await.map_err(Error::internal)?;
    let bytes = out.get_ref().metadata().await.map_err(Error::internal)?.len();
    Ok((sink.rows, i64::try_from(bytes).unwrap_or(i64::MAX)))
}

/// Formats rows one at a time (CSV through the `csv` crate's quoting, or a JSON array).
struct RowSink<'a, F: Fn(Progress)> {
    format: ReportFormat,
    columns: Vec<&'static str>,
    rows: i64,
    total: i64,
    last_percent: u8,
    send: &'a F,
}

impl<'a, F: Fn(Progress)> RowSink<'a, F> {
    fn new(format: ReportFormat, total: i64, send: &'a F) -> Self {
        RowSink { format, columns: Vec::new(), rows: 0, total, last_percent: 0, send }
    }

    async fn header(&mut self, columns: &[&'static str], out: &mut (impl AsyncWriteExt + Unpin)) -> Result<()> {
        self.columns = columns.to_vec();
        if self.format == ReportFormat::Csv {
            out.write_all(&csv_line(columns.iter().map(|c| c.to_string()))?).await.map_err(Error::internal)?;
        }
        Ok(())
    }

    async fn row(&mut self, record: &serde_json::Value, out: &mut (impl AsyncWriteExt + Unpin)) -> Result<()> {
        match self.format {
            ReportFormat::Csv => {
                let line = csv_line(self.columns.iter().map(|c| csv_cell(record.get(*c))))?;
                out.write_all(&line).await.map_err(Error::internal)?;
            }
            ReportFormat::Json => {
                let lead: &[u8] = if self.rows == 0 { b"[\n" } else { b",\n" };
                out.write_all(lead).await.map_err(Error::internal)?;
                let line = serde_json::to_vec(record).map_err(Error::internal)?;
                out.write_all(&line).await.map_err(Error::internal)?;
            }
        }
        self.rows += 1;
        let percent =
            if self.total > 0 { u8::try_from((self.rows * 99 / self.total).min(99)).unwrap_or(99) } else { 0 };
        if percent > self.last_percent {
            self.last_percent = percent;
            (self.send)(Progress {
                status: "processing",
                progress: percent,
                rows: self.rows,
                total: self.total,
                report: None,
                error: None,
            });
        }
        Ok(())
    }

    async fn finish(&mut self, out: &mut (impl AsyncWriteExt + Unpin)) -> Result<()> {
        match self.format {
            ReportFormat::Csv => {}
            ReportFormat::Json => {
                let tail: &[u8] = if self.rows == 0 { b"[]\n" } else { b"\n]\n" };
                out.write_all(tail).await.map_err(Error::internal)?;
            }
        }
        Ok(())
    }
}

/// One CSV record, quoted by the `csv` crate (a small buffer per line).
fn csv_line(cells: impl IntoIterator<Item = String>) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().buffer_capacity(512).from_writer(Vec::with_capacity(256));
    w.write_record(cells).map_err(Error::internal)?;
    w.into_inner().map_err(|e| Error::internal_msg(e.to_string()))
}

/// A CSV cell. Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR)
/// is prefixed with `'` (OWASP's advice against CSV injection).
fn csv_cell(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => {
            if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{s}")
            } else {
                s.clone()
            }
        }
        Some(other) => other.to_string(),
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
    if report.status != "complete" {
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

    #[test]
    fn csv_cells_cannot_smuggle_formulas() {
        assert_eq!(csv_cell(Some(&json!("=HYPERLINK(\"x\")"))), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell(Some(&json!("plain"))), "plain");
        assert_eq!(csv_cell(Some(&json!(3))), "3");
        assert_eq!(csv_cell(None), "");
    }
}
