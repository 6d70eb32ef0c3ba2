//! Data access: every SQL statement Quire runs lives under this module.
//!
//! Quire speaks two dialects. Rather than erase them behind `sqlx::Any` (which loses
//! typed timestamps, prepared-statement caching per driver and the concrete pools the
//! session store needs), the pool is an enum and each data function matches on it once
//! through [`on_conn!`]. Statements are written in the common subset of both dialects
//! (`$1` placeholders work in SQLite too) and only genuinely different SQL is written
//! twice, right here. Services never see which database they run on.

pub mod api_tokens;
pub mod audit;
pub mod comments;
mod group;
pub mod idempotency;
pub mod jobs;
pub mod notifications;
pub mod notify;
pub mod posts;
pub mod reports;
pub mod seed;
pub mod sessions;
pub mod stats;
pub mod uploads;
pub mod users;
pub mod webhooks;

pub use group::{Group, Grouped};

use std::{str::FromStr, time::Duration};

use sqlx::{
    pool::PoolConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction,
};

/// Runs the same statement text on whichever connection `$conn` holds.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {{
        $crate::db::count_statement();
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Postgres($c) => $body,
        }
    }};
}
pub(crate) use on_conn;

static STATEMENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts a data-access call (one relaxed atomic add: no lock on the request path).
#[doc(hidden)]
pub fn count_statement() {
    STATEMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Data-access calls made by this process so far; tests use it to prove that a page
/// costs a fixed number of queries whatever its size (no N+1).
pub fn statements_executed() -> u64 {
    STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The application's connection pool. A SQLite pool comes with its [`WriteGate`] and the
/// task that commits grouped writes together (see [`Db::grouped`]).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, WriteGate, Group),
    Postgres(PgPool),
}

/// Lets this process's SQLite write transactions through together, and holds them back while
/// the checkpoint that empties the write-ahead log runs (see [`Db::checkpoint_if_grown`]).
///
/// That checkpoint needs a moment with no writer at all. Under a steady stream of writes
/// SQLite's busy handler never finds one: the checkpoint sleeps (1, 2, 5 … ms) and a writer
/// takes the lock in the gap, every time. Writers pass the gate side by side (a shared
/// guard: no queue among them, SQLite's lock orders them as before); the checkpoint closes it
/// (the exclusive guard, granted in order once the writers already inside are done), and new
/// writers wait until it has finished. Another process on the same file still meets only
/// SQLite's own lock and busy timeout.
#[derive(Clone, Debug, Default)]
pub struct WriteGate(std::sync::Arc<tokio::sync::RwLock<()>>);

impl WriteGate {
    /// A writer's pass.
    async fn pass(&self) -> sqlx::Result<tokio::sync::OwnedRwLockReadGuard<()>> {
        within_busy_timeout(self.0.clone().read_owned()).await
    }

    /// Closes the gate: granted once the writers inside are done; new ones wait.
    async fn close(&self) -> sqlx::Result<tokio::sync::OwnedRwLockWriteGuard<()>> {
        within_busy_timeout(self.0.clone().write_owned()).await
    }
}

/// Waits at the gate as long as SQLite's own busy timeout would have waited for its lock; then
/// the same answer as SQLite's: busy (a 503), not a hang.
async fn within_busy_timeout<T>(wait: impl std::future::Future<Output = T>) -> sqlx::Result<T> {
    tokio::time::timeout(SQLITE_BUSY_TIMEOUT, wait).await.map_err(|_| sqlx::Error::PoolTimedOut)
}

/// A borrowed connection (from the pool or inside a transaction) that data functions take.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// A connection checked out of the pool for a few statements.
pub enum PooledConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back. A SQLite one holds its
/// pass through the [`WriteGate`] until then (fields drop in order: the transaction, queueing
/// its rollback, then the pass).
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>, tokio::sync::OwnedRwLockReadGuard<()>),
    Postgres(Transaction<'static, Postgres>),
}

impl PooledConn {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(c) => Conn::Sqlite(&mut *c),
            PooledConn::Postgres(c) => Conn::Postgres(&mut *c),
        }
    }
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t, _) => Conn::Sqlite(&mut *t),
            Tx::Postgres(t) => Conn::Postgres(&mut *t),
        }
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(t, _pass) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// How long a SQLite writer waits for the file's write lock (and at the [`WriteGate`]).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the checkpoint waits for readers and writers it cannot hold back.
const CHECKPOINT_WAIT: Duration = Duration::from_millis(100);

/// What a SQLite write-ahead log may keep on disk after a checkpoint resets it.
const WAL_KEEP_BYTES: u64 = 16 << 20;

/// Pool settings read from configuration.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(5) }
    }
}

impl Db {
    /// Opens a pool for `url` (`sqlite://…` or `postgres://…`). SQLite files are created on demand,
    /// in WAL mode with foreign keys enforced.
    pub async fn connect(url: &str, settings: &PoolSettings) -> sqlx::Result<Self> {
        if is_postgres_url(url) {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // SQLite's page cache is per connection (2 MB each by default); the OS already
                // caches the file, so a smaller one each keeps the pool's memory down.
                .pragma("cache_size", "-512")
                // A checkpoint that resets the log also shrinks its file back to this size.
                .pragma("journal_size_limit", WAL_KEEP_BYTES.to_string());
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                // No ping before each acquire: a SQLite connection is a thread of this process,
                // not a socket that can go stale, and the ping cost every request a round trip
                // to that thread (two context switches) before its first query.
                .test_before_acquire(false)
                .after_release(|conn, _| Box::pin(release_outside_transaction(conn)))
                .connect_with(opts)
                .await?;
            let gate = WriteGate::default();
            // The group task's own handle has no group: the task ends with the last of ours.
            let group = Group::start(Db::Sqlite(pool.clone(), gate.clone(), Group::default()));
            Ok(Db::Sqlite(pool, gate, group))
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(..) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Applies Quire's migrations for this dialect, then the session store's own table.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(p, ..) => sqlx::migrate!("migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        sessions::SessionStore::new(self).migrate().await?;
        Ok(())
    }

    pub async fn acquire(&self) -> sqlx::Result<PooledConn> {
        let start = std::time::Instant::now();
        let conn = match self {
            Db::Sqlite(p, ..) => PooledConn::Sqlite(p.acquire().await?),
            Db::Postgres(p) => PooledConn::Postgres(p.acquire().await?),
        };
        if start.elapsed() > std::time::Duration::from_millis(1) {
            metrics::counter!("quire_db_pool_waits_total").increment(1);
        }
        Ok(conn)
    }

    /// The pool's open connections and how many of them are idle.
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Sqlite(p, ..) => (p.size(), p.num_idle()),
            Db::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    /// Begins a transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads and then writes fails with SQLITE_BUSY_SNAPSHOT
    /// when another connection committed in between, and no busy timeout can save it.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Db::Sqlite(p, gate, _) => {
                let pass = gate.pass().await?;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, pass)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A cheap round trip used by the health check.
    pub async fn ping(&self) -> sqlx::Result<()> {
        match self {
            Db::Sqlite(p, ..) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
        }
    }

    /// Brings a SQLite write-ahead log that has grown past `limit` bytes back into the database
    /// and empties it (`wal_checkpoint(TRUNCATE)`); `None` when there was nothing to do (a
    /// smaller log, no log file, PostgreSQL).
    ///
    /// SQLite's own checkpoint after each commit copies what it can but resets the log only
    /// when no reader or writer is still on it. Under a steady stream of writes there always
    /// is one, so the log only grows (by ~80 kB per created post: 2.9 GB after 20 s of
    /// creates here), and every page read searches it, slower the longer it is. This
    /// checkpoint copies what it can with writers still going, then closes the [`WriteGate`]
    /// (this process's writers wait while the rest is copied and the log emptied) and waits up
    /// to 100 ms for the reads of the moment to finish (new ones read the database file once it
    /// is copied) and for another process's writer, if any.
    pub async fn checkpoint_if_grown(&self, limit: u64) -> sqlx::Result<Option<Checkpoint>> {
        let Db::Sqlite(p, gate, _) = self else { return Ok(None) };
        let mut wal = p.connect_options().get_filename().as_os_str().to_owned();
        wal.push("-wal");
        let wal_bytes = match tokio::fs::metadata(&wal).await {
            Ok(m) if m.len() > limit => m.len(),
            _ => return Ok(None),
        };
        // The connection first: the gate stays closed only for the checkpoint itself, not
        // while the pool is busy with long reads (an export, say).
        let mut conn = p.acquire().await?;
        // Most of the copying first, with writers still going (a passive checkpoint waits for
        // no one); then, with the gate closed, only what they added meanwhile.
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut *conn).await?;
        let _closed = gate.close().await?;
        // Writers of another process on the file (a CLI command, say) do not stop at the gate:
        // wait for them briefly, not for the busy timeout, while this process's writers wait.
        set_busy_timeout(&mut conn, CHECKPOINT_WAIT).await?;
        let outcome =
            sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *conn).await;
        if set_busy_timeout(&mut conn, SQLITE_BUSY_TIMEOUT).await.is_err() {
            // Not pooled again with the short wait.
            conn.close_on_drop();
        }
        let (busy, _, _) = outcome?;
        Ok(Some(Checkpoint { done: busy == 0, wal_bytes }))
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p, ..) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

async fn set_busy_timeout(conn: &mut SqliteConnection, wait: Duration) -> sqlx::Result<()> {
    sqlx::query(&format!("PRAGMA busy_timeout = {}", wait.as_millis())).execute(conn).await.map(|_| ())
}

/// What [`Db::checkpoint_if_grown`] did with a log of `wal_bytes`: `done` when it was copied
/// and emptied; otherwise a reader, or another process's writer, held it past the checkpoint's
/// short wait, and a later attempt tries again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub done: bool,
    pub wal_bytes: u64,
}

/// Whether a SQLite connection coming back to the pool may be pooled again: not while it is
/// still inside a transaction, which it is closed for (closing rolls the transaction back).
///
/// sqlx's `begin_with` on SQLite (0.8) has a window where a cancelled caller (a client that
/// hung up, a request timeout) leaves `BEGIN IMMEDIATE` run but no `Transaction` to roll it
/// back. Pooled again, that connection holds the write lock, and every later `begin` on it
/// fails with "attempted to call begin_with at non-zero transaction depth". A `Transaction`
/// dropped the ordinary way has queued its rollback on the connection's worker; the ping,
/// queued behind it, lets it land before the depth is read again.
async fn release_outside_transaction(conn: &mut SqliteConnection) -> sqlx::Result<bool> {
    use sqlx::Connection as _;
    if conn.is_in_transaction() {
        conn.ping().await?;
        if conn.is_in_transaction() {
            tracing::warn!("a SQLite connection came back inside a transaction: closing it (rolls it back)");
            metrics::counter!("quire_db_connections_discarded_total").increment(1);
            return Ok(false);
        }
    }
    Ok(true)
}

/// True when `err` says the database is busy rather than broken: no pooled connection free in
/// time, or SQLite's lock held past the busy timeout (SQLITE_BUSY, SQLITE_LOCKED and
/// SQLITE_BUSY_SNAPSHOT). A client may retry those (503).
pub fn is_busy(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("5" | "6" | "517")),
        _ => false,
    }
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// True when `err` is a violation of the unique constraint or index named `name`
/// (SQLite reports columns, PostgreSQL the constraint name, so callers pass a fragment both contain).
pub fn is_unique_violation(err: &sqlx::Error, name: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                && (db.constraint().is_some_and(|c| c.contains(name)) || db.message().contains(name))
        }
        _ => false,
    }
}
