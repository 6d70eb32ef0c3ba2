//! What administrators see and do on `/admin`: the lists (gathered in a fixed number of
//! queries) and retrying failed background work. Every function checks the actor here.

use super::{jobs, jobs::Queue, users::require_admin, webhooks};
use crate::{
    db::{self, users::UserSort, Db},
    error::Result,
    models::{AdminOverview, User},
};

const LIMIT: i64 = 50;

pub async fn overview(db: &Db, actor: &User, search: Option<&str>) -> Result<AdminOverview> {
    require_admin(actor)?;
    let mut conn = db.acquire().await?;
    let webhook_events = db::webhooks::recent(conn.conn(), LIMIT).await?;
    let jobs = db::jobs::recent(conn.conn(), LIMIT).await?;
    let queue_depth = db::jobs::depth(conn.conn()).await?;
    let (users, _) = db::users::list(conn.conn(), search, UserSort::CreatedAt, true, LIMIT, 0).await?;
    let audit = db::audit::recent(conn.conn(), LIMIT).await?;
    Ok(AdminOverview {
        webhook_events,
        jobs,
        users: users.into_iter().map(|u| u.into_user()).collect(),
        audit,
        queue_depth,
    })
}

/// Puts a failed job back in the queue and wakes this node's workers.
pub async fn retry_job(db: &Db, queue: &Queue, actor: &User, id: i64) -> Result<()> {
    require_admin(actor)?;
    jobs::retry(db, id).await?;
    queue.wake();
    Ok(())
}

/// Processes a failed webhook delivery again.
pub async fn retry_webhook(db: &Db, queue: &Queue, actor: &User, id: i64) -> Result<()> {
    require_admin(actor)?;
    webhooks::retry(db, queue, id).await
}
