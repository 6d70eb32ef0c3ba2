//! The background job queue, kept in the database so that it survives restarts and is
//! shared by every node. A job is enqueued in the same transaction as the change that
//! causes it; workers claim one at a time under a lease, retry failures with exponential
//! backoff, and give up after `max_attempts` with the last error kept for `/admin`.
//! A job whose worker died is claimed again once its lease has expired.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Notify;

use crate::{
    db::{self, Conn, Db},
    error::{Error, Result},
    models::Job,
};

pub use crate::config::QueueSettings;

/// The delay before retrying after `attempt` failed attempts: base × 2^(attempt−1), capped.
pub fn backoff(settings: &QueueSettings, attempt: i64) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    settings.base_backoff.saturating_mul(2u32.saturating_pow(exp)).min(settings.max_backoff)
}

/// Adds a job, due now, inside the caller's transaction.
pub async fn enqueue(conn: Conn<'_>, settings: &QueueSettings, kind: &str, payload: &Value) -> Result<i64> {
    let now = Utc::now();
    Ok(db::jobs::insert(conn, kind, &payload.to_string(), settings.max_attempts, now, now).await?)
}

/// What one job's handler concluded.
pub type JobResult = std::result::Result<(), String>;
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = JobResult> + Send + 'a>>;

/// Runs jobs by kind. Errors are messages: they are what `/admin` shows.
pub trait JobHandler: Send + Sync + 'static {
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a>;
}

/// What [`Queue::run_one`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// Nothing was due.
    Idle,
    Done(i64),
    /// Failed; queued again at the given time.
    Retry(i64, DateTime<Utc>),
    /// Failed for the last time.
    Failed(i64),
    /// The lease was lost meanwhile (another worker took the job over); nothing recorded.
    LostLease(i64),
}

/// A queue on one database, with this process's wake-up signal.
#[derive(Clone)]
pub struct Queue {
    db: Db,
    settings: QueueSettings,
    wake: Arc<Notify>,
}

impl Queue {
    pub fn new(db: Db, settings: QueueSettings) -> Self {
        Queue { db, settings, wake: Arc::new(Notify::new()) }
    }

    pub fn settings(&self) -> &QueueSettings {
        &self.settings
    }

    /// Tells this process's idle workers that a job was just committed.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Claims and runs one due job as `worker` at `now`, recording the outcome (and counting
    /// it in `quire_job_runs_total`).
    pub async fn run_one(&self, worker: &str, handler: &dyn JobHandler, now: DateTime<Utc>) -> Result<Ran> {
        let ran = self.run_one_uncounted(worker, handler, now).await?;
        let outcome = match ran {
            Ran::Idle => return Ok(ran),
            Ran::Done(_) => "done",
            Ran::Retry(..) => "retry",
            Ran::Failed(_) => "failed",
            Ran::LostLease(_) => "lost_lease",
        };
        metrics::counter!("quire_job_runs_total", "outcome" => outcome).increment(1);
        Ok(ran)
    }

    async fn run_one_uncounted(&self, worker: &str, handler: &dyn JobHandler, now: DateTime<Utc>) -> Result<Ran> {
        let lease_until = now + chrono::Duration::from_std(self.settings.lease).map_err(Error::internal)?;
        let Some(job) = db::jobs::claim(&self.db, worker, now, lease_until).await? else { return Ok(Ran::Idle) };
        if job.attempts > job.max_attempts {
            // Claimed again after its worker died on its last attempt.
            return self.record_failure(&job, worker, "abandoned: its worker stopped during the last attempt").await;
        }
        let outcome = match tokio::time::timeout(self.settings.lease, handler.run(&job)).await {
            Ok(result) => result,
            Err(_) => Err(format!("timed out after {} s", self.settings.lease.as_secs())),
        };
        let mut conn = self.db.acquire().await?;
        match outcome {
            Ok(()) => {
                if db::jobs::complete(conn.conn(), job.id, worker, Utc::now()).await? {
                    Ok(Ran::Done(job.id))
                } else {
                    Ok(Ran::LostLease(job.id))
                }
            }
            Err(message) => {
                drop(conn);
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %message, "job failed");
                self.record_failure(&job, worker, &message).await
            }
        }
    }

    async fn record_failure(&self, job: &Job, worker: &str, message: &str) -> Result<Ran> {
        let now = Utc::now();
        let retry_at = (job.attempts < job.max_attempts)
            .then(|| chrono::Duration::from_std(backoff(&self.settings, job.attempts)).ok().map(|d| now + d))
            .flatten();
        let message: String = message.chars().take(2000).collect();
        let mut conn = self.db.acquire().await?;
        if !db::jobs::fail(conn.conn(), job.id, worker, &message, retry_at, now).await? {
            return Ok(Ran::LostLease(job.id));
        }
        Ok(match retry_at {
            Some(at) => Ran::Retry(job.id, at),
            None => Ran::Failed(job.id),
        })
    }

    /// Starts `count` workers that run jobs until the process ends.
    pub fn spawn_workers(&self, count: usize, handler: Arc<dyn JobHandler>) -> Vec<tokio::task::JoinHandle<()>> {
        let node = uuid::Uuid::new_v4().simple().to_string();
        (0..count)
            .map(|i| {
                let queue = self.clone();
                let handler = handler.clone();
                let worker = format!("{}-{i}", &node[..12]);
                tokio::spawn(async move { queue.work(&worker, handler.as_ref()).await })
            })
            .collect()
    }

    async fn work(&self, worker: &str, handler: &dyn JobHandler) {
        loop {
            // Register for a wake-up before looking, so an enqueue in between is not missed.
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match self.run_one(worker, handler, Utc::now()).await {
                Ok(Ran::Idle) => {
                    tokio::select! {
                        _ = &mut woken => {}
                        _ = tokio::time::sleep(self.settings.poll) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "job worker could not reach the database");
                    tokio::time::sleep(self.settings.poll).await;
                }
            }
        }
    }
}

/// Admin: puts a failed job back in the queue with fresh attempts.
pub async fn retry(db: &Db, id: i64) -> Result<()> {
    let mut conn = db.acquire().await?;
    if db::jobs::retry(conn.conn(), id, Utc::now()).await? {
        Ok(())
    } else {
        match db::jobs::find(conn.conn(), id).await? {
            None => Err(Error::not_found("No such job.")),
            Some(_) => Err(Error::App(crate::models::AppError::conflict("Only a failed job can be retried."))),
        }
    }
}

pub async fn find(db: &Db, id: i64) -> Result<Option<Job>> {
    let mut conn = db.acquire().await?;
    Ok(db::jobs::find(conn.conn(), id).await?)
}

pub async fn depth(db: &Db) -> Result<i64> {
    let mut conn = db.acquire().await?;
    Ok(db::jobs::depth(conn.conn()).await?)
}

/// Deletes jobs that finished more than a week ago.
pub async fn purge(db: &Db) -> Result<u64> {
    let mut conn = db.acquire().await?;
    Ok(db::jobs::purge_done(conn.conn(), Utc::now() - chrono::Duration::days(7)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = QueueSettings {
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            ..Default::default()
        };
        let delays: Vec<u64> = (1..=7).map(|a| backoff(&s, a).as_secs()).collect();
        assert_eq!(delays, vec![2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(backoff(&s, 1_000_000).as_secs(), 60);
    }
}
