//! Users: rows, inserts and look-ups.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};
use crate::models::{Plan, Role, User};

/// The columns of [`UserRow`], for `concat!` into statements.
macro_rules! user_columns {
    () => {
        "id, email, name, password_hash, role, plan, avatar_url, github_repo, created_at, updated_at, version"
    };
}

/// A users row as stored, password hash included: it never leaves the server.
#[derive(sqlx::FromRow, Clone)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub plan: String,
    pub avatar_url: Option<String>,
    pub github_repo: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("password_hash", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl UserRow {
    pub fn into_user(self) -> User {
        User {
            id: self.id,
            email: self.email,
            name: self.name,
            role: Role::parse(&self.role).unwrap_or_default(),
            plan: Plan::parse(&self.plan).unwrap_or_default(),
            avatar_url: self.avatar_url,
            github_repo: self.github_repo,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub now: DateTime<Utc>,
}

/// Inserts a user; a taken email surfaces as a unique violation on `users_email_key`.
pub async fn insert(conn: Conn<'_>, new: &NewUser<'_>) -> sqlx::Result<UserRow> {
    const SQL: &str = concat!(
        "INSERT INTO users (email, name, password_hash, role, plan, created_at, updated_at, version) ",
        "VALUES ($1, $2, $3, $4, 'free', $5, $5, 1) RETURNING ",
        user_columns!()
    );
    on_conn!(conn, |c| {
        sqlx::query_as::<_, UserRow>(SQL)
            .bind(new.email)
            .bind(new.name)
            .bind(new.password_hash)
            .bind(new.role.as_str())
            .bind(new.now)
            .fetch_one(c)
            .await
    })
}

pub async fn find_by_id(conn: Conn<'_>, id: i64) -> sqlx::Result<Option<UserRow>> {
    const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
    on_conn!(conn, |c| sqlx::query_as::<_, UserRow>(SQL).bind(id).fetch_optional(c).await)
}

/// Looks a user up by e-mail, whatever its case (served by the `lower(email)` index).
pub async fn find_by_email(conn: Conn<'_>, email: &str) -> sqlx::Result<Option<UserRow>> {
    const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE lower(email) = lower($1)");
    on_conn!(conn, |c| sqlx::query_as::<_, UserRow>(SQL).bind(email).fetch_optional(c).await)
}
