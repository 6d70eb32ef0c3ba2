//! Posts: writing, editing with optimistic locking, publishing within the plan's limit,
//! and deleting. Every change runs in one transaction with its audit entry.

use chrono::Utc;
use serde_json::json;

use super::{events::Bus, notifications};
use crate::{
    db::{self, posts::NewPost, Db, Tx},
    error::{Error, Result},
    models::{
        post::{slugify, ContentPatch},
        AppError, NotificationKind, Plan, Post, PostContent, User,
    },
};

/// How many published posts a `free` account may hold at once.
pub const FREE_PUBLISHED_LIMIT: i64 = 3;

async fn audit(tx: &mut Tx, actor: &User, action: &str, post_id: i64, detail: serde_json::Value) -> Result<()> {
    super::audit::record(tx, Some(actor), action, ("post", post_id), &detail).await
}

/// Whether `viewer` may read a post: published ones by anyone, drafts by their author and admins.
pub fn visible_to(row: &db::posts::PostRow, viewer: Option<&User>) -> bool {
    row.published || viewer.is_some_and(|v| v.id == row.author_id || v.is_admin())
}

async fn load(tx: &mut Tx, id: i64) -> Result<Post> {
    let row = db::posts::find_by_id(tx.conn(), id).await?.ok_or_else(|| Error::not_found("No such post."))?;
    one_with_tags(tx.conn(), row).await
}

async fn one_with_tags(conn: db::Conn<'_>, row: db::posts::PostRow) -> Result<Post> {
    let mut posts = with_tags(conn, vec![row]).await?;
    posts.pop().ok_or_else(|| Error::internal_msg("post vanished while loading its tags"))
}

/// Loads a post for a change by `actor`: only its author or an admin may change it, and
/// to anyone else a draft does not exist.
async fn load_for_change(tx: &mut Tx, actor: &User, id: i64) -> Result<Post> {
    let post = load(tx, id).await?;
    if post.author_id == actor.id || actor.is_admin() {
        Ok(post)
    } else if post.published {
        Err(Error::forbidden("Only the author or an administrator may change this post."))
    } else {
        Err(Error::not_found("No such post."))
    }
}

/// Creates a draft by `author`.
pub async fn create(db: &Db, author: &User, content: PostContent) -> Result<Post> {
    create_in(db, None, author, content).await
}

/// Creates a post, published at once when `publish` (within the plan's limit), all in one transaction.
pub async fn create_with(db: &Db, bus: &Bus, author: &User, content: PostContent, publish: bool) -> Result<Post> {
    create_in(db, publish.then_some(bus), author, content).await
}

/// Creates a post; with `publish` (the bus to tell) it is published in the same transaction.
///
/// The transaction is grouped with other creates running at the same moment (one commit
/// for all of them on SQLite, see [`Db::grouped`]); the answer is the one it would have had
/// alone.
async fn create_in(db: &Db, publish: Option<&Bus>, author: &User, content: PostContent) -> Result<Post> {
    let work = NewPostWork { author: author.clone(), content, publish: publish.is_some() };
    let (post, raised) = db.grouped(work).await?;
    if let (Some(bus), Some(raised)) = (publish, raised) {
        notifications::deliver(bus, [raised]);
    }
    Ok(post)
}

/// One create, as a unit of grouped work: the draft, and its publication when asked for.
struct NewPostWork {
    author: User,
    content: PostContent,
    publish: bool,
}

impl db::Grouped for NewPostWork {
    type Output = (Post, Option<crate::models::Notification>);
    type Error = Error;

    fn run<'a>(&'a self, tx: &'a mut Tx) -> futures_util::future::BoxFuture<'a, Result<Self::Output>> {
        Box::pin(async move {
            let post = create_draft_in(tx, &self.author, &self.content).await?;
            if !self.publish {
                return Ok((post, None));
            }
            let raised = publish_in(tx, &self.author, &post).await?;
            Ok((load(tx, post.id).await?, Some(raised)))
        })
    }
}

/// Creates a draft inside `tx` (with its tags and audit entry), for callers whose own
/// change must commit or fail together with the post (a GitHub release's draft, say).
///
/// The slug is the title's, numbered when taken (`hello`, `hello-2`, …). The number comes
/// from a counter per base — one statement, however many posts share the title. Should it
/// collide with a post from before the counters (or a title whose slug is literally
/// `hello-2`), one scan moves the counter past every number in use.
pub(crate) async fn create_draft_in(tx: &mut Tx, author: &User, content: &PostContent) -> Result<Post> {
    use chrono::SubsecRound as _;
    let base = slugify(content.title());
    // Timestamps as both databases keep them (microseconds), so this answer equals a later read.
    let now = Utc::now().trunc_subsecs(6);
    for _ in 0..3 {
        let n = db::posts::next_slug_number(tx.conn(), &base).await?;
        let slug = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let new = NewPost { author_id: author.id, slug: &slug, content, now };
        let Some(id) = db::posts::insert(tx.conn(), &new).await? else {
            let highest = db::posts::highest_slug_number(tx.conn(), &base).await?;
            db::posts::raise_slug_counter(tx.conn(), &base, highest).await?;
            continue;
        };
        db::posts::add_tags(tx.conn(), id, content.tags()).await?;
        audit(tx, author, "post.create", id, json!({ "slug": slug })).await?;
        let mut tags = content.tags().to_vec();
        tags.sort();
        return Ok(Post {
            id,
            author_id: author.id,
            author_name: author.name.clone(),
            title: content.title().to_string(),
            slug,
            body: content.body().to_string(),
            category: content.category(),
            tags,
            published: false,
            published_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        });
    }
    Err(Error::App(AppError::conflict("Another post took this title a moment ago; save again.")))
}

/// Replaces a post's content if nobody saved since `expected_version` was loaded.
pub async fn update(db: &Db, actor: &User, id: i64, expected_version: i64, content: PostContent) -> Result<Post> {
    let mut tx = db.begin().await?;
    let current = load_for_change(&mut tx, actor, id).await?;
    if !db::posts::update_content(tx.conn(), id, expected_version, &content, Utc::now()).await? {
        return Err(stale(&current));
    }
    db::posts::set_tags(tx.conn(), id, content.tags()).await?;
    audit(&mut tx, actor, "post.update", id, json!({ "version": expected_version + 1 })).await?;
    let post = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(post)
}

/// A stale write: the error names the version the post is at now (REST answers it as 412).
fn stale(current: &Post) -> Error {
    Error::App(AppError::stale(
        format!(
            "This post was changed at {} (now version {}) after you opened it. Reload to see the newer version.",
            current.updated_at.format("%Y-%m-%d %H:%M:%S UTC"),
            current.version
        ),
        current.version,
    ))
}

/// What an edit does to a post's content.
#[derive(Debug, Clone)]
pub enum ContentChange {
    Keep,
    /// A whole replacement (PUT).
    Whole(PostContent),
    /// Some fields (PATCH), merged with the post as it is inside the edit's transaction.
    Patch(ContentPatch),
}

/// An API edit: new content and/or a publication change, applied together in one
/// transaction if the post is still at `expected_version` (`None`: whatever it is now).
pub async fn edit(
    db: &Db,
    bus: &Bus,
    actor: &User,
    id: i64,
    expected_version: Option<i64>,
    change: ContentChange,
    published: Option<bool>,
) -> Result<Post> {
    let mut tx = db.begin().await?;
    let current = load_for_change(&mut tx, actor, id).await?;
    let expected = expected_version.unwrap_or(current.version);
    if expected != current.version {
        return Err(stale(&current));
    }
    let content = match change {
        ContentChange::Keep => None,
        ContentChange::Whole(c) => Some(c),
        ContentChange::Patch(p) if p.is_empty() => None,
        ContentChange::Patch(p) => Some(p.apply(&current)),
    };
    // Every write below is guarded by the version it expects, so two concurrent edits with
    // the same If-Match cannot both win: the second finds the version moved and is stale.
    let mut changed = false;
    let mut raised = None;
    let mut version = expected;
    if let Some(content) = &content {
        if !db::posts::update_content(tx.conn(), id, version, content, Utc::now()).await? {
            return Err(stale(&current));
        }
        version += 1;
        db::posts::set_tags(tx.conn(), id, content.tags()).await?;
        audit(&mut tx, actor, "post.update", id, json!({ "version": version })).await?;
        changed = true;
    }
    match published {
        Some(true) if !current.published => {
            let at = Post { version, ..current.clone() };
            raised = Some(publish_in(&mut tx, actor, &at).await?);
            changed = true;
        }
        Some(false) if current.published => {
            if !db::posts::set_published(tx.conn(), id, version, false, Utc::now()).await? {
                return Err(stale(&current));
            }
            audit(&mut tx, actor, "post.unpublish", id, json!({})).await?;
            changed = true;
        }
        _ => {}
    }
    let post = if changed { load(&mut tx, id).await? } else { current };
    tx.commit().await?;
    notifications::deliver(bus, raised);
    Ok(post)
}

/// A `free` author may hold at most [`FREE_PUBLISHED_LIMIT`] published posts. The author's
/// row stays locked until the transaction ends, so concurrent publishes by one author are
/// counted one after the other (never both against the same count).
async fn check_plan(tx: &mut Tx, post: &Post) -> Result<()> {
    let plan = db::users::lock_plan(tx.conn(), post.author_id).await?;
    let author_plan = plan.as_deref().and_then(Plan::parse).unwrap_or_default();
    if author_plan == Plan::Free
        && db::posts::count_published_by(tx.conn(), post.author_id).await? >= FREE_PUBLISHED_LIMIT
    {
        return Err(Error::App(AppError::forbidden(format!(
            "The free plan allows {FREE_PUBLISHED_LIMIT} published posts. Unpublish one, or upgrade to Pro."
        ))));
    }
    Ok(())
}

/// Publishes `post` (at `post.version`) inside `tx`: the plan's limit, the flag, the audit
/// entry and the author's `post.published` notification (to deliver once `tx` commits).
async fn publish_in(tx: &mut Tx, actor: &User, post: &Post) -> Result<crate::models::Notification> {
    check_plan(tx, post).await?;
    if !db::posts::set_published(tx.conn(), post.id, post.version, true, Utc::now()).await? {
        return Err(stale(post));
    }
    audit(tx, actor, "post.publish", post.id, json!({})).await?;
    let data = json!({ "post_id": post.id, "post_title": post.title, "post_slug": post.slug, "url": format!("/posts/{}", post.slug) });
    notifications::raise(tx.conn(), post.author_id, NotificationKind::PostPublished, &data).await
}

/// Publishes a post. A `free` author may hold at most [`FREE_PUBLISHED_LIMIT`] published posts.
pub async fn publish(db: &Db, bus: &Bus, actor: &User, id: i64) -> Result<Post> {
    let mut tx = db.begin().await?;
    let post = load_for_change(&mut tx, actor, id).await?;
    if post.published {
        return Ok(post);
    }
    let raised = publish_in(&mut tx, actor, &post).await?;
    let post = load(&mut tx, id).await?;
    tx.commit().await?;
    notifications::deliver(bus, [raised]);
    Ok(post)
}

pub async fn unpublish(db: &Db, actor: &User, id: i64) -> Result<Post> {
    let mut tx = db.begin().await?;
    let post = load_for_change(&mut tx, actor, id).await?;
    if !post.published {
        return Ok(post);
    }
    if !db::posts::set_published(tx.conn(), id, post.version, false, Utc::now()).await? {
        return Err(stale(&post));
    }
    audit(&mut tx, actor, "post.unpublish", id, json!({})).await?;
    let post = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(post)
}

pub async fn delete(db: &Db, actor: &User, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let post = load_for_change(&mut tx, actor, id).await?;
    db::posts::delete(tx.conn(), id).await?;
    audit(&mut tx, actor, "post.delete", id, json!({ "slug": post.slug, "title": post.title })).await?;
    tx.commit().await?;
    Ok(())
}

mod read;
pub use read::*;
