//! Group commit: several callers' write transactions committed as one on SQLite.
//!
//! A SQLite commit is expensive beside the statements in it: each one appends every page it
//! touched to the write-ahead log and flushes the full-text index's pending terms as a new
//! segment. One post created per transaction costs ~250 µs of CPU in SQLite alone; 64 in one
//! transaction ~100 µs each. And SQLite lets one writer in at a time anyway, so concurrent
//! writers only queue on its lock (sleeping in its busy handler) while one commits.
//!
//! So a [`Group`] is one task per pool that takes the work waiting for it (up to
//! [`MAX_GROUP`] units), runs each in turn inside one transaction and commits once. Each unit
//! is a [`Grouped`]: what one caller's transaction does, written against a [`Tx`] and able to
//! run twice. Should one of them fail (a plan's limit, say), the group's transaction is rolled
//! back and every unit of it runs again in a transaction of its own, in order, so each caller
//! gets exactly the answer it would have had alone; nothing of a failed unit is kept. A caller
//! that has gone away (a client that hung up) before its unit runs is skipped, as its own
//! transaction would have been rolled back.
//!
//! Only work that commits or fails on its own goes here: the unit's effects outside the
//! database (notifications, events) are the caller's, after the answer comes back.

use futures_util::{future::BoxFuture, FutureExt as _};
use tokio::sync::{mpsc, oneshot};

use super::{Db, Tx};

/// The most units one transaction takes: larger groups gain little (most of a commit's
/// cost is already shared at 64) and keep their callers waiting longer.
const MAX_GROUP: usize = 64;

/// The pause between two groups when the next is already waiting (see `run_groups`).
const BREATHER: std::time::Duration = std::time::Duration::from_millis(1);

/// Units queued beyond this make their callers wait for room (back-pressure, not memory).
const QUEUE: usize = 1024;

/// One caller's write transaction, run by [`Db::grouped`]: in a group's transaction or, when
/// the group fails, in one of its own. `run` may therefore run twice; it must not act outside
/// the transaction.
pub trait Grouped: Send + 'static {
    type Output: Send + 'static;
    type Error: From<sqlx::Error> + Send + 'static;
    fn run<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<Self::Output, Self::Error>>;
}

/// The sending side of a pool's group task; none for PostgreSQL (its writers do not share one
/// lock, each commits concurrently) and for the task's own copy of the pool.
#[derive(Clone, Debug, Default)]
pub struct Group(Option<mpsc::Sender<Box<dyn Unit>>>);

impl Group {
    /// Starts the task for `db` (which must have no group of its own, else it would keep its
    /// own queue open). It ends when the last [`Group`] sender, that is the last clone of the
    /// pool handed out, is dropped.
    pub(super) fn start(db: Db) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run_groups(db, rx));
        Group(Some(tx))
    }
}

impl Db {
    /// Runs `work` as a write transaction: on SQLite grouped with other callers' (see the
    /// module's comment), elsewhere in a transaction of its own.
    pub async fn grouped<W: Grouped>(&self, work: W) -> Result<W::Output, W::Error> {
        let Db::Sqlite(_, _, Group(Some(queue))) = self else { return alone(self, &work).await };
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(unit)) = queue.send(Box::new(Pending { work, outcome: None, reply })).await {
            // The task is gone (its runtime is shutting down): do the work here.
            let Ok(unit) = (unit as Box<dyn std::any::Any>).downcast::<Pending<W>>() else {
                return Err(sqlx::Error::PoolClosed.into());
            };
            return alone(self, &unit.work).await;
        }
        answer.await.unwrap_or_else(|_| Err(sqlx::Error::PoolClosed.into()))
    }
}

async fn alone<W: Grouped>(db: &Db, work: &W) -> Result<W::Output, W::Error> {
    let mut tx = db.begin().await?;
    let out = work.run(&mut tx).await?;
    tx.commit().await?;
    Ok(out)
}

/// A unit with its caller's answer channel, its type erased for the queue.
trait Unit: Send + std::any::Any {
    /// Runs the work in `tx` and keeps its outcome; false when it failed.
    fn run<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFuture<'a, bool>;
    /// Whether the caller still waits for the answer.
    fn wanted(&self) -> bool;
    /// Answers the caller: the kept outcome once its transaction committed, else `failed`.
    fn answer(self: Box<Self>, failed: Option<sqlx::Error>);
}

struct Pending<W: Grouped> {
    work: W,
    outcome: Option<Result<W::Output, W::Error>>,
    reply: oneshot::Sender<Result<W::Output, W::Error>>,
}

impl<W: Grouped> Unit for Pending<W> {
    fn run<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            // A panic fails this unit (a 500 for its caller), not the task every writer needs.
            let outcome = std::panic::AssertUnwindSafe(self.work.run(tx))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(sqlx::Error::Protocol("the write panicked".into()).into()));
            let ok = outcome.is_ok();
            self.outcome = Some(outcome);
            ok
        })
    }

    fn wanted(&self) -> bool {
        !self.reply.is_closed()
    }

    fn answer(self: Box<Self>, failed: Option<sqlx::Error>) {
        let answer = match (failed, self.outcome) {
            (Some(e), _) => Err(e.into()),
            (None, Some(outcome)) => outcome,
            // Not run: its caller had gone.
            (None, None) => return,
        };
        // The caller may have gone meanwhile; the work is done either way.
        let _ = self.reply.send(answer);
    }
}

async fn run_groups(db: Db, mut queue: mpsc::Receiver<Box<dyn Unit>>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        group.retain(|u| u.wanted());
        match group.len() {
            0 => {}
            1 => one_by_one(&db, &mut group).await,
            n => {
                metrics::histogram!("quire_db_group_size").record(n as f64);
                match together(&db, &mut group).await {
                    Ok(true) => group.drain(..).for_each(|u| u.answer(None)),
                    // One unit failed: each runs again alone, so each gets its own answer.
                    Ok(false) => {
                        metrics::counter!("quire_db_groups_split_total").increment(1);
                        one_by_one(&db, &mut group).await;
                    }
                    // The group's transaction could not begin or commit (busy past the timeout,
                    // the pool closed, the disk): every unit in it gets that answer.
                    Err(e) => group.drain(..).for_each(|u| u.answer(Some(same_error(&e)))),
                }
            }
        }
        group.clear();
        if !queue.is_empty() {
            // More work already waits: leave the write lock free for a moment first. Other
            // writers (an edit, a comment, the job queue, another process) wait for it in
            // SQLite's busy handler, which looks again only after sleeping 1 … 100 ms; a task
            // that commits and begins again at once left them no gap to find (another process's
            // write waited 0.2–4 s under a stream of creates, 3.4 ms with this pause), and the
            // creates lose nothing: they gather into the next, larger group meanwhile.
            tokio::time::sleep(BREATHER).await;
        }
    }
}

/// Runs every unit in one transaction; `Ok(false)` (rolled back) when one of them failed.
async fn together(db: &Db, group: &mut [Box<dyn Unit>]) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    for unit in group.iter_mut() {
        if !unit.run(&mut tx).await {
            return Ok(false);
        }
    }
    tx.commit().await?;
    Ok(true)
}

async fn one_by_one(db: &Db, group: &mut Vec<Box<dyn Unit>>) {
    for mut unit in group.drain(..) {
        let failed = match db.begin().await {
            Ok(mut tx) => match unit.run(&mut tx).await {
                true => tx.commit().await.err(),
                // Dropped: rolled back; the answer is the unit's own error.
                false => None,
            },
            Err(e) => Some(e),
        };
        unit.answer(failed);
    }
}

/// An error like `e` for each caller of a failed group (sqlx's errors cannot be cloned): the
/// busy and closed cases keep their kind (a 503), anything else carries its message.
fn same_error(e: &sqlx::Error) -> sqlx::Error {
    match e {
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        e if super::is_busy(e) => sqlx::Error::PoolTimedOut,
        other => sqlx::Error::Protocol(format!("the group's transaction failed: {other}")),
    }
}
