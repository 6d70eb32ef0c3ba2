//! The append-only audit log. Callers pass the transaction of the change they record.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};

pub struct Entry<'a> {
    pub actor_id: Option<i64>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: i64,
    /// A small JSON object.
    pub detail: &'a serde_json::Value,
    pub now: DateTime<Utc>,
}

pub async fn append(conn: Conn<'_>, e: &Entry<'_>) -> sqlx::Result<()> {
    const SQL: &str = "INSERT INTO audit_log (actor_id, action, entity_type, entity_id, detail, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6)";
    let detail = e.detail.to_string();
    on_conn!(conn, |c| {
        sqlx::query(SQL)
            .bind(e.actor_id)
            .bind(e.action)
            .bind(e.entity_type)
            .bind(e.entity_id)
            .bind(&detail)
            .bind(e.now)
            .execute(c)
            .await
            .map(|_| ())
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

/// The entries about one entity, oldest first.
pub async fn for_entity(conn: Conn<'_>, entity_type: &str, entity_id: i64) -> sqlx::Result<Vec<AuditRow>> {
    const SQL: &str = "SELECT id, actor_id, action, entity_type, entity_id, detail, created_at FROM audit_log \
                       WHERE entity_type = $1 AND entity_id = $2 ORDER BY id";
    on_conn!(conn, |c| sqlx::query_as::<_, AuditRow>(SQL).bind(entity_type).bind(entity_id).fetch_all(c).await)
}

/// The newest entries with their actor's name, newest first.
pub async fn recent(conn: Conn<'_>, limit: i64) -> sqlx::Result<Vec<crate::models::AuditEntry>> {
    const SQL: &str =
        "SELECT a.id, u.name AS actor_name, a.action, a.entity_type, a.entity_id, a.detail, a.created_at \
                       FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id ORDER BY a.id DESC LIMIT $1";
    on_conn!(conn, |c| sqlx::query_as::<_, crate::models::AuditEntry>(SQL).bind(limit).fetch_all(c).await)
}
