//! A SQLite file under pressure, each test on a pool of its own (no background work of a
//! running app shares it): connections given back inside a transaction, and the write-ahead
//! log that readers and a steady stream of writers keep SQLite from emptying.

use crate::common;

use quire::{
    db::{self, Db},
    models::{validation::NewAccount, PostContent, Role, User},
    services::{accounts, posts},
};
use sqlx::Connection as _;

fn content(title: &str, body: &str) -> PostContent {
    PostContent::parse(title, body, "tech", "").unwrap()
}

/// A migrated SQLite file of its own in `dir`, with one writer.
async fn fresh(dir: &common::temp::TempDir, email: &str) -> (Db, User) {
    let url = format!("sqlite://{}", dir.path().join("quire.db").display());
    let db = Db::connect(&url, &db::PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let author =
        accounts::register(&db, NewAccount::parse(email, "Writer", "password123").unwrap(), Role::User).await.unwrap();
    (db, author)
}

/// Waits until every connection the pool holds is back and idle (a release runs in a task).
async fn settle(pool: &sqlx::SqlitePool) {
    for _ in 0..500 {
        if pool.num_idle() == pool.size() as usize {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the pool never settled");
}

/// A `begin` cancelled at the wrong moment (a client hanging up under load) leaves a pooled
/// SQLite connection inside `BEGIN IMMEDIATE` with nothing to end it. Pooled again, it held the
/// write lock (other writers timed out) and refused every later `begin` ("begin_with at
/// non-zero transaction depth"); now the pool closes it on release, rolling it back.
#[tokio::test]
async fn a_connection_released_inside_a_transaction_is_closed_not_reused() {
    let dir = common::temp::tempdir().unwrap();
    let (db, author) = fresh(&dir, "tx@example.com").await;
    let Db::Sqlite(pool, ..) = &db else { unreachable!("a SQLite pool") };
    {
        let mut conn = pool.acquire().await.unwrap();
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("UPDATE users SET name = 'Leaked' WHERE id = $1").bind(author.id).execute(&mut *tx).await.unwrap();
        std::mem::forget(tx);
    }
    settle(pool).await;
    for i in 0..3 {
        posts::create(&db, &author, content(&format!("After {i}"), "Body")).await.unwrap();
    }
    let leaked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE name = 'Leaked'").fetch_one(pool).await.unwrap();
    assert_eq!(leaked, 0, "rolled back");

    // A transaction dropped uncommitted the ordinary way rolls back and keeps its connection.
    settle(pool).await;
    let size = pool.size();
    for _ in 0..20 {
        drop(db.begin().await.unwrap());
        settle(pool).await;
        assert_eq!(pool.size(), size);
    }
    db.close().await;
}

/// A reader that stays on an old snapshot keeps SQLite's own checkpoints from resetting the
/// write-ahead log, so it grows with every write (under a steady load there is always such a
/// reader). Once the readers of the moment are done, `checkpoint_if_grown` copies the log
/// into the database and empties it; nothing written is lost, and a small log is left alone.
#[tokio::test]
async fn a_write_ahead_log_that_readers_kept_growing_is_emptied() {
    let dir = common::temp::tempdir().unwrap();
    let (db, author) = fresh(&dir, "wal@example.com").await;
    let wal = dir.path().join("quire.db-wal");
    let Db::Sqlite(pool, ..) = &db else { unreachable!("a SQLite pool") };

    let mut reader = pool.acquire().await.unwrap();
    let mut snapshot = reader.begin().await.unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts").fetch_one(&mut *snapshot).await.unwrap();
    let body = "x".repeat(8000);
    for i in 0..600 {
        posts::create(&db, &author, content(&format!("Kept {i}"), &body)).await.unwrap();
    }
    let grown = std::fs::metadata(&wal).unwrap().len();
    assert!(grown > 4 << 20, "the log grew past SQLite's own checkpoint size: {grown} bytes");
    // Still held: nothing to do yet but to say so (within the busy timeout).
    drop(snapshot);
    drop(reader);
    settle(pool).await;

    assert_eq!(db.checkpoint_if_grown(grown + 1).await.unwrap(), None, "under the limit: left alone");
    let done = db.checkpoint_if_grown(1 << 20).await.unwrap().expect("a checkpoint ran");
    assert!(done.done && done.wal_bytes >= grown, "{done:?}");
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0, "the log is empty");
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts").fetch_one(pool).await.unwrap();
    assert_eq!(after, before + 600, "every post is in the database");
    assert_eq!(db.checkpoint_if_grown(1 << 20).await.unwrap(), None, "an empty log: nothing to do");
    db.close().await;
}

/// With writers going all the time, every checkpoint completes (it closes the write gate:
/// the writers inside finish, new ones wait) and every writer gets through, none refused
/// or lost. (Why the gate is needed shows only at a release build's pace, 3,000 creates a
/// second: without it the checkpoint never found a moment and the log grew to gigabytes;
/// this test's debug-build writers leave gaps.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_log_is_emptied_while_writers_keep_writing() {
    let dir = common::temp::tempdir().unwrap();
    let (db, author) = fresh(&dir, "busy@example.com").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (db, author, stop) = (db.clone(), author.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    posts::create(&db, &author, content(&format!("Writer {w} post {n}"), "Body")).await.unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if let Some(c) = db.checkpoint_if_grown(0).await.unwrap() {
            outcomes.push(c.done);
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    assert!(outcomes.len() > 10 && outcomes.iter().all(|done| *done), "every checkpoint got its moment: {outcomes:?}");
    let Db::Sqlite(pool, ..) = &db else { unreachable!("a SQLite pool") };
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts").fetch_one(pool).await.unwrap();
    assert_eq!(stored, written, "every create is in the database");
    db.close().await;
}
