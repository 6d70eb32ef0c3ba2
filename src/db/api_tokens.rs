//! API tokens: only the SHA-256 of a secret is stored; look-ups go by that hash.

use chrono::{DateTime, Utc};

use super::{on_conn, users::UserRow, Conn};

pub struct NewToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub scopes: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

pub async fn insert(conn: Conn<'_>, new: &NewToken<'_>) -> sqlx::Result<i64> {
    const SQL: &str = "INSERT INTO api_tokens (user_id, name, token_hash, scopes, expires_at, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    on_conn!(conn, |c| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(new.user_id)
            .bind(new.name)
            .bind(new.token_hash)
            .bind(new.scopes)
            .bind(new.expires_at)
            .bind(new.now)
            .fetch_one(c)
            .await
    })
}

/// A live token with its owner, found in one query.
#[derive(sqlx::FromRow)]
pub struct TokenWithOwner {
    pub token_id: i64,
    pub scopes: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub user: UserRow,
}

/// The unrevoked, unexpired token whose hash is `token_hash`, and its owner.
pub async fn find_live_by_hash(
    conn: Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<TokenWithOwner>> {
    const SQL: &str = "SELECT t.id AS token_id, t.scopes, t.last_used_at, t.expires_at, \
                              u.id, u.email, u.name, u.password_hash, u.role, u.plan, u.avatar_url, u.github_repo, \
                              u.created_at, u.updated_at, u.version, u.auth_epoch \
                       FROM api_tokens t JOIN users u ON u.id = t.user_id \
                       WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)";
    on_conn!(conn, |c| sqlx::query_as::<_, TokenWithOwner>(SQL).bind(token_hash).bind(now).fetch_optional(c).await)
}

/// Whether token `id` is still live (not revoked, not expired, its owner not deleted).
pub async fn is_live(conn: Conn<'_>, id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    const SQL: &str = "SELECT COUNT(*) FROM api_tokens WHERE id = $1 AND revoked_at IS NULL \
                       AND (expires_at IS NULL OR expires_at > $2)";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).bind(id).bind(now).fetch_one(c).await.map(|n| n == 1))
}

pub async fn touch_last_used(conn: Conn<'_>, token_id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
    on_conn!(conn, |c| sqlx::query(SQL).bind(now).bind(token_id).execute(c).await.map(|_| ()))
}

/// A token as its owner sees it in a list (never the hash).
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const TOKEN_COLUMNS: &str = "id, name, scopes, expires_at, last_used_at, created_at, revoked_at";

/// A user's unrevoked tokens, newest first.
pub async fn list_for_user(conn: Conn<'_>, user_id: i64) -> sqlx::Result<Vec<TokenRow>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC LIMIT 200"
    );
    on_conn!(conn, |c| sqlx::query_as::<_, TokenRow>(&sql).bind(user_id).fetch_all(c).await)
}

pub async fn find(conn: Conn<'_>, id: i64, user_id: i64) -> sqlx::Result<Option<TokenRow>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1 AND user_id = $2");
    on_conn!(conn, |c| sqlx::query_as::<_, TokenRow>(&sql).bind(id).bind(user_id).fetch_optional(c).await)
}

/// Revokes one of `user_id`'s tokens; false when it is not theirs or already revoked.
pub async fn revoke(conn: Conn<'_>, id: i64, user_id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
    on_conn!(conn, |c| {
        sqlx::query(SQL).bind(now).bind(id).bind(user_id).execute(c).await.map(|r| r.rows_affected() == 1)
    })
}
