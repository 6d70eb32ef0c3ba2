//! Notifications: raised inside the transaction of the change they report (so they exist
//! exactly when the change does), delivered on the bus after it commits.

use chrono::Utc;
use serde_json::Value;

use super::events::Bus;
use crate::{
    db::{self, Conn, Db},
    error::{Error, Result},
    models::{Notification, NotificationKind, NotificationPage, User},
};

/// How many missed events a reconnecting client is sent at most.
pub const REPLAY_LIMIT: i64 = 500;

/// Records a notification for `user_id` (call inside the change's transaction; deliver
/// the result with [`deliver`] once it has committed).
pub async fn raise(conn: Conn<'_>, user_id: i64, kind: NotificationKind, data: &Value) -> Result<Notification> {
    Ok(db::notifications::insert(conn, user_id, kind.as_str(), &data.to_string(), Utc::now()).await?)
}

/// Records a notification unless the user still has an unread one with the same
/// `dedupe_key` (a like, unliked and liked again, does not notify twice).
pub async fn raise_once(
    conn: Conn<'_>,
    user_id: i64,
    kind: NotificationKind,
    dedupe_key: &str,
    data: &Value,
) -> Result<Option<Notification>> {
    Ok(db::notifications::insert_unless_unread(conn, user_id, kind.as_str(), dedupe_key, &data.to_string(), Utc::now())
        .await?)
}

/// Publishes committed notifications.
pub fn deliver(bus: &Bus, raised: impl IntoIterator<Item = Notification>) {
    for n in raised {
        bus.publish(n);
    }
}

/// Raises and delivers one notification in its own statement (no surrounding change).
pub async fn notify(db: &Db, bus: &Bus, user_id: i64, kind: NotificationKind, data: &Value) -> Result<Notification> {
    let mut conn = db.acquire().await?;
    let n = raise(conn.conn(), user_id, kind, data).await?;
    bus.publish(n.clone());
    Ok(n)
}

/// What a client reconnecting after `after_id` missed (oldest first).
pub async fn missed(db: &Db, user_id: i64, after_id: i64) -> Result<Vec<Notification>> {
    let mut conn = db.acquire().await?;
    Ok(db::notifications::after(conn.conn(), user_id, after_id, REPLAY_LIMIT).await?)
}

/// The unread count and the newest `limit` notifications.
pub async fn page(db: &Db, user: &User, limit: i64) -> Result<NotificationPage> {
    let mut conn = db.acquire().await?;
    let items = db::notifications::latest(conn.conn(), user.id, limit.clamp(1, 200)).await?;
    let unread = db::notifications::unread_count(conn.conn(), user.id).await?;
    Ok(NotificationPage { unread, items })
}

pub async fn unread(db: &Db, user_id: i64) -> Result<i64> {
    let mut conn = db.acquire().await?;
    Ok(db::notifications::unread_count(conn.conn(), user_id).await?)
}

/// Marks one notification (or, with `None`, all of them) read; returns how many changed.
pub async fn mark_read(db: &Db, user: &User, id: Option<i64>) -> Result<u64> {
    if id.is_some_and(|id| id <= 0) {
        return Err(Error::field("id", "Must be a positive notification id."));
    }
    let mut conn = db.acquire().await?;
    Ok(db::notifications::mark_read(conn.conn(), user.id, id, Utc::now()).await?)
}
