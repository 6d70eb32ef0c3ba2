//! `quire seed --posts N`: realistic demo data — writers, tags, Markdown bodies of varied
//! shape, comments and likes — inserted in large batches inside transactions, so that a
//! million posts take about a minute on SQLite.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::{
    db::{self, seed::SeedPost, users::NewUser, Db},
    error::Result,
    models::{post::slugify, Role},
    services::passwords,
};

/// The password of every demo account (they are demo data; change or delete them).
pub const DEMO_PASSWORD: &str = "quire-demo-password";
const BATCH: usize = 1_000;
const TX_ROWS: usize = 20_000;

const WORDS: &[&str] = &[
    "rust", "leptos", "server", "render", "quiet", "garden", "coffee", "market", "budget", "travel", "design",
    "writing", "morning", "database", "index", "query", "cache", "stream", "signal", "resource", "habit", "startup",
    "revenue", "customer", "weekend", "recipe", "mountain", "river", "city", "library", "memory", "async", "thread",
    "latency", "growth", "team", "focus", "light", "winter", "summer",
];
const TAGS: &[&str] = &[
    "rust",
    "web",
    "databases",
    "performance",
    "productivity",
    "travel",
    "food",
    "health",
    "startups",
    "finance",
    "design",
    "writing",
    "career",
    "remote",
    "open-source",
    "security",
    "testing",
    "devops",
    "books",
    "music",
];
const CATEGORIES: [&str; 3] = ["tech", "lifestyle", "business"];

#[derive(Debug)]
pub struct SeedReport {
    pub users: usize,
    pub posts: usize,
    pub comments: usize,
    pub likes: usize,
    pub elapsed: Duration,
}

fn sentence(rng: &mut StdRng, words: usize) -> String {
    let mut s: Vec<&str> = (0..words).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
    let first = s[0].to_string();
    let mut out = first[..1].to_uppercase() + &first[1..];
    s.remove(0);
    for w in s {
        out.push(' ');
        out.push_str(w);
    }
    out.push('.');
    out
}

fn body(rng: &mut StdRng) -> String {
    let mut b = String::with_capacity(600);
    match rng.gen_range(0..4) {
        0 => {
            b.push_str(&format!("## {}\n\n", sentence(rng, 4)));
            b.push_str(&sentence(rng, 18));
            b.push_str("\n\n- ");
            b.push_str(&sentence(rng, 5));
            b.push_str("\n- ");
            b.push_str(&sentence(rng, 6));
        }
        1 => {
            b.push_str(&sentence(rng, 14));
            b.push_str(" **");
            b.push_str(&sentence(rng, 3));
            b.push_str("**\n\n```rust\nfn main() {\n    println!(\"hello\");\n}\n```\n\n");
            b.push_str(&sentence(rng, 10));
        }
        2 => {
            b.push_str("> ");
            b.push_str(&sentence(rng, 9));
            b.push_str("\n\n");
            b.push_str(&sentence(rng, 20));
            b.push_str(" [Read more](https://example.com/).");
        }
        _ => {
            for _ in 0..3 {
                b.push_str(&sentence(rng, 12));
                b.push_str("\n\n");
            }
        }
    }
    b
}

/// Inserts `posts` posts (and writers, tags, comments, likes) into `db`.
pub async fn run(db: &Db, posts: usize) -> Result<SeedReport> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let hash = passwords::hash(DEMO_PASSWORD.to_string()).await?;
    let now = Utc::now();

    // Writers.
    let users_wanted = (posts / 20_000).clamp(10, 200);
    let mut user_ids = Vec::with_capacity(users_wanted);
    let mut tx = db.begin().await?;
    let first_user = db::seed::max_id(tx.conn(), "users").await? + 1;
    for i in 0..users_wanted {
        let n = first_user + i as i64;
        let email = format!("demo{n}@quire.test");
        let name =
            format!("{} {}", ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"][i % 8], n);
        let row = db::users::insert(
            tx.conn(),
            &NewUser { email: &email, name: &name, password_hash: &hash, role: Role::User, now },
        )
        .await?;
        db::seed::set_plan(tx.conn(), &email, "pro").await?;
        user_ids.push(row.id);
    }
    let mut tag_ids = Vec::with_capacity(TAGS.len());
    for t in TAGS {
        tag_ids.push(db::seed::tag_id(tx.conn(), t).await?);
    }
    tx.commit().await?;

    let first_post = {
        let mut c = db.acquire().await?;
        db::seed::max_id(c.conn(), "posts").await? + 1
    };
    // The whole load is one transaction on SQLite when the full-text triggers are set aside
    // (a failure leaves nothing behind); the index is rebuilt once at the end.
    let mut bulk = db.begin().await?;
    let triggers = db::seed::suspend_fts_triggers(bulk.conn()).await?;
    let bulk = if triggers.is_empty() {
        bulk.commit().await?;
        None
    } else {
        Some(bulk)
    };
    let (mut comments, mut likes) = (0, 0);
    let mut done = 0;
    let mut bulk = bulk;
    while done < posts {
        let mut own_tx = match bulk {
            Some(_) => None,
            None => Some(db.begin().await?),
        };
        let tx = match own_tx.as_mut() {
            Some(t) => t,
            None => bulk.as_mut().ok_or_else(|| crate::error::Error::internal_msg("seed: no open transaction"))?,
        };
        let in_tx = (posts - done).min(TX_ROWS);
        let mut written = 0;
        while written < in_tx {
            let n = (in_tx - written).min(BATCH);
            let mut batch = Vec::with_capacity(n);
            let mut pairs = Vec::new();
            let mut comment_rows = Vec::new();
            let mut like_rows = Vec::new();
            for k in 0..n {
                let id = first_post + (done + written + k) as i64;
                let words = rng.gen_range(3..8);
                let title = sentence(&mut rng, words).trim_end_matches('.').to_string();
                let created_at = now - TimeDelta::seconds(rng.gen_range(0..63_072_000));
                let published = rng.gen_bool(0.9);
                for t in 0..rng.gen_range(0..4) {
                    let tag = tag_ids[(id as usize * 7 + t * 3) % tag_ids.len()];
                    if !pairs.contains(&(id, tag)) {
                        pairs.push((id, tag));
                    }
                }
                if published && rng.gen_bool(0.2) {
                    let who = user_ids[rng.gen_range(0..user_ids.len())];
                    comment_rows.push((id, who, sentence(&mut rng, 8), created_at + TimeDelta::hours(2)));
                }
                if published && rng.gen_bool(0.3) {
                    let who = user_ids[rng.gen_range(0..user_ids.len())];
                    like_rows.push((id, who, created_at + TimeDelta::hours(1)));
                }
                batch.push(SeedPost {
                    id,
                    author_id: user_ids[rng.gen_range(0..user_ids.len())],
                    slug: format!("{}-{id}", slugify(&title)),
                    title,
                    body: body(&mut rng),
                    category: CATEGORIES[rng.gen_range(0..3)],
                    published,
                    published_at: published.then_some(created_at),
                    created_at,
                });
            }
            db::seed::insert_posts(tx.conn(), &batch).await?;
            db::seed::insert_post_tags(tx.conn(), &pairs).await?;
            db::seed::insert_comments(tx.conn(), &comment_rows).await?;
            db::seed::insert_likes(tx.conn(), &like_rows).await?;
            comments += comment_rows.len();
            likes += like_rows.len();
            written += n;
        }
        if let Some(t) = own_tx {
            t.commit().await?;
        }
        done += in_tx;
        tracing::info!(done, total = posts, "seeding posts");
    }
    if let Some(mut t) = bulk {
        db::seed::restore_fts_triggers(t.conn(), &triggers).await?;
        t.commit().await?;
    }
    let mut c = db.acquire().await?;
    db::seed::reset_sequences(c.conn()).await?;
    Ok(SeedReport { users: user_ids.len(), posts, comments, likes, elapsed: started.elapsed() })
}
