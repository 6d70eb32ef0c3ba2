//! The job queue: retries with backoff, final failure, lease recovery, and that concurrent
//! workers never run one job twice (PostgreSQL's SKIP LOCKED; SQLite's single writer).

use crate::common;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use common::TestApp;
use quire::{
    models::Job,
    services::jobs::{self, JobFuture, JobHandler, Queue, QueueSettings, Ran},
};
use serde_json::json;

/// Fails the first `failures` runs of every job, then succeeds; counts runs per job id.
#[derive(Default)]
struct Flaky {
    failures: usize,
    delay: Duration,
    runs: Mutex<HashMap<i64, usize>>,
}

impl JobHandler for Flaky {
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(async move {
            let n = {
                let mut runs = self.runs.lock().unwrap();
                let n = runs.entry(job.id).or_default();
                *n += 1;
                *n
            };
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            if n <= self.failures {
                Err(format!("failure number {n}"))
            } else {
                Ok(())
            }
        })
    }
}

fn settings(max_attempts: i64) -> QueueSettings {
    QueueSettings {
        max_attempts,
        lease: Duration::from_secs(30),
        base_backoff: Duration::from_secs(10),
        max_backoff: Duration::from_secs(3600),
        poll: Duration::from_millis(20),
    }
}

async fn enqueue(app: &TestApp, s: &QueueSettings, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut tx = app.db().begin().await.unwrap();
    for i in 0..n {
        ids.push(jobs::enqueue(tx.conn(), s, "test.job", &json!({ "n": i })).await.unwrap());
    }
    tx.commit().await.unwrap();
    ids
}

async fn job(app: &TestApp, id: i64) -> Job {
    jobs::find(app.db(), id).await.unwrap().unwrap()
}

on_both_databases!(
    multi_thread;
    retries_back_off_then_succeed,
    a_job_that_keeps_failing_ends_failed,
    an_expired_lease_is_taken_over,
    concurrent_workers_run_each_job_once
);

async fn retries_back_off_then_succeed(app: TestApp) {
    let s = settings(5);
    let queue = Queue::new(app.db().clone(), s);
    let handler = Flaky { failures: 2, ..Default::default() };
    let [id] = enqueue(&app, &s, 1).await[..] else { unreachable!() };

    let t0 = Utc::now();
    let Ran::Retry(_, first_retry) = queue.run_one("w", &handler, t0).await.unwrap() else {
        panic!("expected a retry")
    };
    let delay1 = (first_retry - t0).num_seconds();
    assert!((9..=11).contains(&delay1), "first retry after the base backoff (10 s), got {delay1}");
    let j = job(&app, id).await;
    assert_eq!((j.status.as_str(), j.attempts, j.last_error.as_deref()), ("queued", 1, Some("failure number 1")));

    // Not due yet: nothing runs.
    assert_eq!(queue.run_one("w", &handler, t0 + chrono::Duration::seconds(5)).await.unwrap(), Ran::Idle);
    let t1 = first_retry + chrono::Duration::milliseconds(1);
    let Ran::Retry(_, second_retry) = queue.run_one("w", &handler, t1).await.unwrap() else {
        panic!("expected a retry")
    };
    let delay2 = (second_retry - Utc::now()).num_seconds();
    assert!((19..=21).contains(&delay2), "the second delay doubles (20 s), got {delay2}");

    let t2 = second_retry + chrono::Duration::milliseconds(1);
    assert_eq!(queue.run_one("w", &handler, t2).await.unwrap(), Ran::Done(id));
    let j = job(&app, id).await;
    assert_eq!((j.status.as_str(), j.attempts, j.last_error), ("done", 3, None));
    assert_eq!(handler.runs.lock().unwrap()[&id], 3);
}

async fn a_job_that_keeps_failing_ends_failed(app: TestApp) {
    let s = settings(3);
    let queue = Queue::new(app.db().clone(), s);
    let handler = Flaky { failures: usize::MAX, ..Default::default() };
    let [id] = enqueue(&app, &s, 1).await[..] else { unreachable!() };
    let far = Utc::now() + chrono::Duration::days(1);
    assert!(matches!(queue.run_one("w", &handler, Utc::now()).await.unwrap(), Ran::Retry(..)));
    assert!(matches!(queue.run_one("w", &handler, far).await.unwrap(), Ran::Retry(..)));
    assert_eq!(queue.run_one("w", &handler, far + chrono::Duration::days(1)).await.unwrap(), Ran::Failed(id));
    let j = job(&app, id).await;
    assert_eq!((j.status.as_str(), j.attempts, j.last_error.as_deref()), ("failed", 3, Some("failure number 3")));
    // A failed job stays failed…
    assert_eq!(queue.run_one("w", &handler, far + chrono::Duration::days(30)).await.unwrap(), Ran::Idle);
    // …until an administrator retries it, with fresh attempts.
    jobs::retry(app.db(), id).await.unwrap();
    let j = job(&app, id).await;
    assert_eq!((j.status.as_str(), j.attempts), ("queued", 0));
    assert!(jobs::retry(app.db(), id).await.is_err(), "only a failed job can be retried");
}

async fn an_expired_lease_is_taken_over(app: TestApp) {
    let s = settings(5);
    let [id] = enqueue(&app, &s, 1).await[..] else { unreachable!() };
    // Worker A claims the job and dies (never reports back).
    let now = Utc::now();
    let claimed = quire::db::jobs::claim(app.db(), "worker-a", now, now + chrono::Duration::seconds(30)).await.unwrap();
    assert_eq!(claimed.map(|j| j.id), Some(id));
    let queue = Queue::new(app.db().clone(), s);
    let handler = Flaky::default();
    // While the lease holds, nobody else takes it.
    assert_eq!(queue.run_one("worker-b", &handler, now + chrono::Duration::seconds(10)).await.unwrap(), Ran::Idle);
    // After it expires, worker B runs it.
    assert_eq!(queue.run_one("worker-b", &handler, now + chrono::Duration::seconds(31)).await.unwrap(), Ran::Done(id));
    let j = job(&app, id).await;
    assert_eq!((j.status.as_str(), j.attempts, j.locked_by.as_deref()), ("done", 2, Some("worker-b")));
    // Worker A coming back late cannot overwrite the outcome.
    let mut conn = app.db().acquire().await.unwrap();
    assert!(!quire::db::jobs::complete(conn.conn(), id, "worker-a", Utc::now()).await.unwrap());
}

async fn concurrent_workers_run_each_job_once(app: TestApp) {
    let s = settings(3);
    let ids = enqueue(&app, &s, 120).await;
    let queue = Queue::new(app.db().clone(), s);
    let handler = Arc::new(Flaky { delay: Duration::from_millis(2), ..Default::default() });
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let queue = queue.clone();
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut ran = 0;
                loop {
                    match queue.run_one(&format!("w{w}"), handler.as_ref(), Utc::now()).await.unwrap() {
                        Ran::Idle => break ran,
                        Ran::Done(_) => ran += 1,
                        other => panic!("unexpected {other:?}"),
                    }
                }
            })
        })
        .collect();
    let mut total = 0;
    let mut busy = 0;
    for w in workers {
        let n = w.await.unwrap();
        total += n;
        busy += usize::from(n > 0);
    }
    assert_eq!(total, ids.len(), "every job ran");
    let runs = handler.runs.lock().unwrap();
    assert_eq!(runs.len(), ids.len());
    assert!(runs.values().all(|n| *n == 1), "no job ran twice: {runs:?}");
    assert!(busy >= 2, "the work was shared between workers");
    drop(runs);
    let mut conn = app.db().acquire().await.unwrap();
    assert_eq!(quire::db::jobs::depth(conn.conn()).await.unwrap(), 0);
}
