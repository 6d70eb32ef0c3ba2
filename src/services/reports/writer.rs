//! Writing an export's file: rows stream from the database a page at a time (a pooled
//! connection is borrowed per page, not for the whole export), are formatted one by one
//! (CSV quoted by the `csv` crate, or a JSON array) and go through a 64 KiB buffered file,
//! so memory stays flat however many rows there are.

use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::{path_of, Progress, ReportRequest};
use crate::{
    db::{self, Db},
    error::{Error, Result},
    models::{ReportFormat, ReportInfo, ReportKind, ReportStatus, User},
};

/// Rows read per query: memory holds one page at a time.
const PAGE: i64 = 1000;

/// Rows are formatted into a small reused buffer and written through a 64 KiB buffered file.
pub(super) async fn write_file(
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
    let total = {
        let mut conn = db.acquire().await?;
        match req.kind {
            ReportKind::MyPosts => db::reports::count_posts(conn.conn(), user.id, from, to).await?,
            ReportKind::SiteStats => db::reports::count_days(conn.conn(), from, to).await?,
        }
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
                // One connection per page: between pages, requests get the pool.
                let page = {
                    let mut conn = db.acquire().await?;
                    db::reports::posts_page(conn.conn(), user.id, from, to, after, PAGE).await?
                };
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
            // One row per day with activity: a short stream on one connection.
            let mut conn = db.acquire().await?;
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
                status: ReportStatus::Processing,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_cannot_smuggle_formulas() {
        assert_eq!(csv_cell(Some(&json!("=HYPERLINK(\"x\")"))), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell(Some(&json!("plain"))), "plain");
        assert_eq!(csv_cell(Some(&json!(3))), "3");
        assert_eq!(csv_cell(None), "");
    }
}
