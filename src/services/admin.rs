//! What administrators see on `/admin`, gathered in a fixed number of queries.

use crate::{
    db::{self, users::UserSort, Db},
    error::{Error, Result},
    models::{AdminOverview, User},
};

const LIMIT: i64 = 50;

pub async fn overview(db: &Db, actor: &User, search: Option<&str>) -> Result<AdminOverview> {
    if !actor.is_admin() {
        return Err(Error::forbidden("Administrators only."));
    }
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
