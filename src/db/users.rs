//! Users: rows, inserts and look-ups.

use chrono::{DateTime, Utc};

use super::{on_conn, Conn};
use crate::models::{Plan, Role, User};

/// The columns of [`UserRow`], for `concat!` into statements.
macro_rules! user_columns {
    () => {
        "id, email, name, password_hash, role, plan, avatar_url, github_repo, created_at, updated_at, version, auth_epoch"
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
    /// Sessions signed in before the last password change carry an older epoch: no longer valid.
    pub auth_epoch: i64,
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

/// How an admin's user list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    CreatedAt,
    Name,
    Email,
}

/// One page of users matching `search` (name or e-mail, any case) and the total count.
/// The sort column and direction come from closed enums, never from input text.
pub async fn list(
    mut conn: Conn<'_>,
    search: Option<&str>,
    sort: UserSort,
    descending: bool,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<UserRow>, i64)> {
    let column = match sort {
        UserSort::CreatedAt => "created_at",
        UserSort::Name => "lower(name)",
        UserSort::Email => "lower(email)",
    };
    let dir = if descending { "DESC" } else { "ASC" };
    let filter =
        if search.is_some() { "WHERE lower(name) LIKE $1 ESCAPE '\\' OR lower(email) LIKE $1 ESCAPE '\\'" } else { "" };
    let (lim, off) = if search.is_some() { ("$2", "$3") } else { ("$1", "$2") };
    let page_sql = format!(
        concat!("SELECT ", user_columns!(), " FROM users {} ORDER BY {} {}, id {} LIMIT {} OFFSET {}"),
        filter, column, dir, dir, lim, off
    );
    let count_sql = format!("SELECT COUNT(*) FROM users {filter}");
    let pattern = search.map(|s| {
        let escaped = s.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    });
    on_conn!(&mut conn, |c| {
        let mut page = sqlx::query_as::<_, UserRow>(&page_sql);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        if let Some(p) = &pattern {
            page = page.bind(p);
            count = count.bind(p);
        }
        let rows = page.bind(limit).bind(offset).fetch_all(&mut **c).await?;
        let total = count.fetch_one(&mut **c).await?;
        Ok((rows, total))
    })
}

pub use crate::models::validation::ProfileChange;

/// Applies a change if the row is still at `expected_version` (`None`: any); returns the new row,
/// or `None` when the user is gone or the version moved.
pub async fn update_profile(
    conn: Conn<'_>,
    id: i64,
    expected_version: Option<i64>,
    change: &ProfileChange,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<UserRow>> {
    const SQL: &str = concat!(
        "UPDATE users SET ",
        "name = COALESCE($1, name), ",
        "avatar_url = CASE WHEN $2 THEN $3 ELSE avatar_url END, ",
        "github_repo = CASE WHEN $4 THEN $5 ELSE github_repo END, ",
        "role = COALESCE($6, role), plan = COALESCE($7, plan), ",
        "updated_at = $8, version = version + 1 ",
        "WHERE id = $9 AND ($10 IS NULL OR version = $10) RETURNING ",
        user_columns!()
    );
    on_conn!(conn, |c| {
        sqlx::query_as::<_, UserRow>(SQL)
            .bind(change.name())
            .bind(change.avatar_url().is_some())
            .bind(change.avatar_url().flatten())
            .bind(change.github_repo().is_some())
            .bind(change.github_repo().flatten())
            .bind(change.role().map(Role::as_str))
            .bind(change.plan().map(Plan::as_str))
            .bind(now)
            .bind(id)
            .bind(expected_version)
            .fetch_optional(c)
            .await
    })
}

/// Replaces the password hash and starts a new session epoch (every session signed in
/// before is then invalid); returns the new epoch, or `None` if the user is gone.
pub async fn set_password(
    conn: Conn<'_>,
    id: i64,
    password_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    const SQL: &str = "UPDATE users SET password_hash = $2, auth_epoch = auth_epoch + 1, updated_at = $3, \
                       version = version + 1 WHERE id = $1 RETURNING auth_epoch";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).bind(id).bind(password_hash).bind(now).fetch_optional(c).await)
}

/// How many administrators there are.
pub async fn count_admins(conn: Conn<'_>) -> sqlx::Result<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM users WHERE role = 'admin'";
    on_conn!(conn, |c| sqlx::query_scalar::<_, i64>(SQL).fetch_one(c).await)
}

pub async fn delete(conn: Conn<'_>, id: i64) -> sqlx::Result<bool> {
    const SQL: &str = "DELETE FROM users WHERE id = $1";
    on_conn!(conn, |c| sqlx::query(SQL).bind(id).execute(c).await.map(|r| r.rows_affected() == 1))
}

/// An account's plan, read with a row lock held to the end of the transaction (PostgreSQL;
/// SQLite's write transactions are exclusive already): checks such as "at most 3
/// published posts on the free plan" then cannot interleave with a concurrent publish.
///
/// `FOR NO KEY UPDATE`, not `FOR UPDATE`: a create inserting a post already holds the
/// author's row `FOR KEY SHARE` (the foreign key), which `FOR UPDATE` conflicts with, so two
/// creates published at once each waited for the other's share lock (PostgreSQL's "deadlock
/// detected", a 500). This lock excludes only its own kind (and plan changes, which update
/// the row), which is all the check needs.
pub async fn lock_plan(conn: Conn<'_>, id: i64) -> sqlx::Result<Option<String>> {
    match conn {
        Conn::Sqlite(c) => {
            sqlx::query_scalar::<_, String>("SELECT plan FROM users WHERE id = $1").bind(id).fetch_optional(c).await
        }
        Conn::Postgres(c) => {
            sqlx::query_scalar::<_, String>("SELECT plan FROM users WHERE id = $1 FOR NO KEY UPDATE")
                .bind(id)
                .fetch_optional(c)
                .await
        }
    }
}

/// The user a Stripe customer belongs to.
pub async fn find_by_stripe_customer(conn: Conn<'_>, customer: &str) -> sqlx::Result<Option<UserRow>> {
    const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE stripe_customer_id = $1");
    on_conn!(conn, |c| sqlx::query_as::<_, UserRow>(SQL).bind(customer).fetch_optional(c).await)
}

/// The user who registered a GitHub repository (`owner/name`, any case; one at most).
pub async fn find_by_github_repo(conn: Conn<'_>, repo: &str) -> sqlx::Result<Option<UserRow>> {
    const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE lower(github_repo) = lower($1)");
    on_conn!(conn, |c| sqlx::query_as::<_, UserRow>(SQL).bind(repo).fetch_optional(c).await)
}

/// Links a Stripe customer to a user (a customer id moves from any previous holder).
pub async fn link_stripe_customer(
    mut conn: Conn<'_>,
    user_id: i64,
    customer: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const UNLINK: &str = "UPDATE users SET stripe_customer_id = NULL WHERE stripe_customer_id = $1 AND id <> $2";
    const LINK: &str = "UPDATE users SET stripe_customer_id = $1, updated_at = $3, version = version + 1 WHERE id = $2";
    on_conn!(&mut conn, |c| {
        sqlx::query(UNLINK).bind(customer).bind(user_id).execute(&mut **c).await?;
        sqlx::query(LINK).bind(customer).bind(user_id).bind(now).execute(&mut **c).await.map(|r| r.rows_affected() == 1)
    })
}

/// A user's subscription state as Stripe reported it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BillingRow {
    pub plan: String,
    pub stripe_customer_id: Option<String>,
    pub subscription_id: Option<String>,
    pub subscription_status: Option<String>,
    pub current_period_end: Option<DateTime<Utc>>,
    /// When Stripe created the event that set this state.
    pub subscription_event_at: Option<DateTime<Utc>>,
}

pub async fn billing(conn: Conn<'_>, user_id: i64) -> sqlx::Result<Option<BillingRow>> {
    const SQL: &str = "SELECT plan, stripe_customer_id, subscription_id, subscription_status, current_period_end, \
                       subscription_event_at FROM users WHERE id = $1";
    on_conn!(conn, |c| sqlx::query_as::<_, BillingRow>(SQL).bind(user_id).fetch_optional(c).await)
}

/// A subscription state reported by one Stripe event.
pub struct SubscriptionState<'a> {
    pub plan: Plan,
    pub subscription_id: &'a str,
    pub status: &'a str,
    pub period_end: Option<DateTime<Utc>>,
    /// When Stripe created the event.
    pub event_at: DateTime<Utc>,
}

/// Sets the plan and the subscription fields together — unless the stored state came from a
/// newer event (Stripe does not deliver in order), or from an event of the same second that
/// ended this subscription (a cancelled subscription never comes back). One statement, so
/// concurrent workers cannot interleave. True when the state was applied.
pub async fn set_subscription(
    conn: Conn<'_>,
    user_id: i64,
    state: &SubscriptionState<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE users SET plan = $2, subscription_id = $3, subscription_status = $4, \
                       current_period_end = $5, subscription_event_at = $6, updated_at = $7, version = version + 1 \
                       WHERE id = $1 AND (subscription_event_at IS NULL OR subscription_event_at < $6 \
                         OR (subscription_event_at = $6 AND NOT (subscription_status = 'canceled' \
                             AND subscription_id = $3 AND $4 <> 'canceled')))";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(user_id)
        .bind(state.plan.as_str())
        .bind(state.subscription_id)
        .bind(state.status)
        .bind(state.period_end)
        .bind(state.event_at)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

/// A failed invoice payment puts a live (`active` or `trialing`) subscription in `past_due`,
/// with the plan that status grants — unless a newer event already set the state. True when applied.
pub async fn set_past_due(
    conn: Conn<'_>,
    user_id: i64,
    plan: Plan,
    event_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE users SET plan = $2, subscription_status = 'past_due', subscription_event_at = $3, \
                       updated_at = $4, version = version + 1 \
                       WHERE id = $1 AND subscription_status IN ('active', 'trialing') \
                         AND (subscription_event_at IS NULL OR subscription_event_at <= $3)";
    on_conn!(conn, |c| sqlx::query(SQL)
        .bind(user_id)
        .bind(plan.as_str())
        .bind(event_at)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}
