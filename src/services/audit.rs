//! The audit log: who changed what, written inside the change's own transaction.

use chrono::Utc;
use serde_json::Value;

use crate::{
    db::{self, audit::Entry, Tx},
    error::Result,
    models::User,
};

/// Records that `actor` (`None`: an outside system, such as Stripe) did `action` to the
/// `entity` (its type and id), with a small JSON `detail`.
pub async fn record(
    tx: &mut Tx,
    actor: Option<&User>,
    action: &str,
    entity: (&str, i64),
    detail: &Value,
) -> Result<()> {
    let (entity_type, entity_id) = entity;
    let entry = Entry { actor_id: actor.map(|a| a.id), action, entity_type, entity_id, detail, now: Utc::now() };
    Ok(db::audit::append(tx.conn(), &entry).await?)
}
