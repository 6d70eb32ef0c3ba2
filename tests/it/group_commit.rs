//! Group commit (`Db::grouped`): creates arriving together share one SQLite transaction,
//! and each caller still gets the answer it would have had alone — a failing unit takes
//! nothing of the others with it, a panicking one fails only itself, and a caller that has
//! gone away before its turn creates nothing. The rules of a create hold on both databases.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use crate::common;

use common::TestApp;
use futures_util::future::{join_all, BoxFuture};
use quire::{
    db::{self, Conn, Db, Grouped, Tx},
    models::{validation::NewAccount, ErrorCode, PostContent, Role, User},
    services::{accounts, posts},
};

async fn user(db: &Db, email: &str) -> User {
    accounts::register(db, NewAccount::parse(email, "Writer", "password123").unwrap(), Role::User).await.unwrap()
}

fn content(title: &str) -> PostContent {
    PostContent::parse(title, "Body", "tech", "rust").unwrap()
}

/// A hundred creates of one title at once: each is stored once, with its own slug numbered
/// in turn, its audit entry, and an answer equal to what a later read shows.
async fn creates_at_once_each_get_their_own_slug_and_answer(app: TestApp) {
    let author = user(app.db(), "many@example.com").await;
    let made = join_all((0..100).map(|_| posts::create(app.db(), &author, content("Same title")))).await;
    let made: Vec<_> = made.into_iter().map(Result::unwrap).collect();
    let mut slugs: Vec<_> = made.iter().map(|p| p.slug.clone()).collect();
    slugs.sort();
    let mut expected: Vec<_> =
        std::iter::once("same-title".to_string()).chain((2..=100).map(|n| format!("same-title-{n}"))).collect();
    expected.sort();
    assert_eq!(slugs, expected);
    for post in &made {
        assert_eq!(&posts::get(app.db(), Some(&author), post.id).await.unwrap(), post);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 100);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'post.create'").await, 100);
}

/// A free account asks to publish twelve posts at once while another writes drafts beside
/// it: three are published (the plan's limit), nine are refused and leave no draft behind,
/// and every draft of the other writer is stored whatever group it shared with a refusal.
async fn a_refused_create_takes_nothing_of_the_others_with_it(app: TestApp) {
    let free = user(app.db(), "free@example.com").await;
    let other = user(app.db(), "other@example.com").await;
    let calls = (0..24).map(|i| {
        let (who, publish) = if i % 2 == 0 { (&free, true) } else { (&other, false) };
        posts::create_with(app.db(), app.bus(), who, content(&format!("Post {i}")), publish)
    });
    let answers = join_all(calls).await;
    let (mut published, mut refused, mut drafts) = (0, 0, 0);
    for (i, answer) in answers.into_iter().enumerate() {
        match (i % 2 == 0, answer) {
            (true, Ok(p)) => {
                assert!(p.published);
                published += 1;
            }
            (true, Err(e)) => {
                assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
                refused += 1;
            }
            (false, answer) => {
                assert!(!answer.unwrap().published);
                drafts += 1;
            }
        }
    }
    assert_eq!((published, refused, drafts), (3, 9, 12));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM posts WHERE author_id = {}", free.id)).await, 3);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM posts WHERE author_id = {}", other.id)).await, 12);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'post.create'").await, 15);
}

on_both_databases!(
    creates_at_once_each_get_their_own_slug_and_answer,
    a_refused_create_takes_nothing_of_the_others_with_it
);

/// A unit that inserts `value` into a scratch table and counts its runs; it fails (or
/// panics) when told to.
struct Insert {
    value: i64,
    runs: Arc<AtomicUsize>,
    outcome: Outcome,
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Succeed,
    Fail,
    Panic,
}

#[derive(Debug)]
struct Failed(String);

impl From<sqlx::Error> for Failed {
    fn from(e: sqlx::Error) -> Self {
        Failed(e.to_string())
    }
}

impl Grouped for Insert {
    type Output = i64;
    type Error = Failed;

    fn run<'a>(&'a self, tx: &'a mut Tx) -> BoxFuture<'a, Result<i64, Failed>> {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            let Conn::Sqlite(c) = tx.conn() else { unreachable!("a SQLite pool") };
            sqlx::query("INSERT INTO scratch (v) VALUES ($1)").bind(self.value).execute(&mut *c).await?;
            match self.outcome {
                Outcome::Succeed => Ok(self.value),
                Outcome::Fail => Err(Failed(format!("unit {} refused", self.value))),
                Outcome::Panic => panic!("unit {} panicked", self.value),
            }
        })
    }
}

async fn scratch_db(dir: &common::temp::TempDir) -> Db {
    let url = format!("sqlite://{}", dir.path().join("quire.db").display());
    let db = Db::connect(&url, &db::PoolSettings::default()).await.unwrap();
    let Db::Sqlite(pool, ..) = &db else { unreachable!("a SQLite pool") };
    sqlx::query("CREATE TABLE scratch (v INTEGER NOT NULL)").execute(pool).await.unwrap();
    db
}

async fn stored(db: &Db) -> Vec<i64> {
    let Db::Sqlite(pool, ..) = db else { unreachable!("a SQLite pool") };
    sqlx::query_scalar("SELECT v FROM scratch ORDER BY v").fetch_all(pool).await.unwrap()
}

fn units(runs: &Arc<AtomicUsize>, outcome_of: impl Fn(i64) -> Outcome) -> Vec<Insert> {
    (1..=10).map(|value| Insert { value, runs: runs.clone(), outcome: outcome_of(value) }).collect()
}

/// A scratch file, and ten units (values 1 to 10, each as `outcome_of` says) queued at once:
/// the file, its pool, the runs counted and each caller's answer.
async fn ten_at_once(
    outcome_of: impl Fn(i64) -> Outcome,
) -> (common::temp::TempDir, Db, Arc<AtomicUsize>, Vec<Result<i64, Failed>>) {
    let dir = common::temp::tempdir().unwrap();
    let db = scratch_db(&dir).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let answers = join_all(units(&runs, outcome_of).into_iter().map(|u| db.grouped(u))).await;
    (dir, db, runs, answers)
}

/// Ten units queued at once run as one group; when the fifth fails the group is rolled back
/// and each runs again alone (fifteen runs in all: the five of the group up to the failing
/// one, then the ten alone, which is how the test sees that they were grouped): nine succeed
/// and are stored once, the fifth answers its own error and leaves nothing. Then a group
/// without failures runs each unit once.
#[tokio::test]
async fn a_group_with_a_failing_unit_runs_again_one_by_one() {
    let (_dir, db, runs, answers) = ten_at_once(|v| if v == 5 { Outcome::Fail } else { Outcome::Succeed }).await;
    for (i, answer) in answers.iter().enumerate() {
        match (i + 1, answer) {
            (5, Err(Failed(m))) => assert_eq!(m, "unit 5 refused"),
            (v, Ok(got)) => assert_eq!(*got, v as i64),
            (v, other) => panic!("unit {v}: {other:?}"),
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), 15, "five grouped, then each alone");
    assert_eq!(stored(&db).await, vec![1, 2, 3, 4, 6, 7, 8, 9, 10]);

    let runs = Arc::new(AtomicUsize::new(0));
    let answers = join_all(units(&runs, |_| Outcome::Succeed).into_iter().map(|u| db.grouped(u))).await;
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(runs.load(Ordering::SeqCst), 10);
    assert_eq!(stored(&db).await.len(), 19);
}

/// A unit that panics fails only itself (an error for its caller); the others are stored and
/// the group task goes on serving later writes.
#[tokio::test]
async fn a_panicking_unit_fails_only_itself() {
    let (_dir, db, runs, answers) = ten_at_once(|v| if v == 3 { Outcome::Panic } else { Outcome::Succeed }).await;
    assert!(answers[2].as_ref().is_err_and(|Failed(m)| m.contains("panicked")), "{:?}", answers[2]);
    assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 9);
    assert_eq!(stored(&db).await, vec![1, 2, 4, 5, 6, 7, 8, 9, 10]);
    let later = db.grouped(Insert { value: 11, runs, outcome: Outcome::Succeed }).await.unwrap();
    assert_eq!(later, 11);
}

/// A caller that gave up (its future dropped, as when a client hangs up) after queueing its
/// unit and before the unit's turn: the unit is skipped, as its own transaction would have been
/// rolled back, and the next caller is served.
#[tokio::test]
async fn a_caller_gone_before_its_turn_creates_nothing() {
    let dir = common::temp::tempdir().unwrap();
    let db = scratch_db(&dir).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let mut gone = Box::pin(db.grouped(Insert { value: 1, runs: runs.clone(), outcome: Outcome::Succeed }));
    // One poll queues the unit; on this one-threaded runtime the group task has not run yet.
    assert!(futures_util::poll!(&mut gone).is_pending());
    drop(gone);
    let kept = db.grouped(Insert { value: 2, runs: runs.clone(), outcome: Outcome::Succeed }).await.unwrap();
    assert_eq!(kept, 2);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(stored(&db).await, vec![2]);
}
