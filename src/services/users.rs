//! Users as an administrator and as themselves manage them: listing, profile changes
//! (role and plan by admins only) and deletion, each audited in its transaction.

use std::path::Path;

use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use crate::{
    db::{self, users::UserSort, Db},
    error::{Error, Result},
    models::{validation::ProfileChange, AppError, Plan, Role, User},
};

/// What an admin asked the user list for (already range-checked by the caller).
#[derive(Debug, Clone)]
pub struct UserQuery {
    pub page: i64,
    pub limit: i64,
    pub search: Option<String>,
    pub sort: UserSort,
    pub descending: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Pagination {
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    pub total_pages: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub data: Vec<User>,
    pub pagination: Pagination,
}

/// A GitHub repository's releases become drafts for one account only.
pub const REPO_TAKEN: &str = "Another account registered this repository; a repository belongs to one account.";

pub(crate) fn require_admin(actor: &User) -> Result<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(Error::forbidden("Only administrators may do this."))
    }
}

/// The caller may act on `id` if it is themselves or they are an admin.
fn require_self_or_admin(actor: &User, id: i64) -> Result<()> {
    if actor.id == id || actor.is_admin() {
        Ok(())
    } else {
        Err(Error::forbidden("You may only see and change your own account."))
    }
}

/// Admin: a page of users (two queries: the page and the total).
pub async fn list(db: &Db, actor: &User, q: &UserQuery) -> Result<UserPage> {
    require_admin(actor)?;
    let mut conn = db.acquire().await?;
    let offset = (q.page - 1).saturating_mul(q.limit);
    let (rows, total) =
        db::users::list(conn.conn(), q.search.as_deref(), q.sort, q.descending, q.limit, offset).await?;
    Ok(UserPage {
        data: rows.into_iter().map(|r| r.into_user()).collect(),
        pagination: Pagination { page: q.page, limit: q.limit, total, total_pages: (total + q.limit - 1) / q.limit },
    })
}

pub async fn get(db: &Db, actor: &User, id: i64) -> Result<User> {
    require_self_or_admin(actor, id)?;
    crate::services::accounts::find(db, id).await?.ok_or_else(|| Error::not_found("No such user."))
}

/// Changes a profile. Only admins may change `role` or `plan`; `expected_version` (from
/// `If-Match`) makes the write conditional.
pub async fn update(
    db: &Db,
    actor: &User,
    id: i64,
    expected_version: Option<i64>,
    change: ProfileChange,
) -> Result<User> {
    require_self_or_admin(actor, id)?;
    if (change.role().is_some() || change.plan().is_some()) && !actor.is_admin() {
        return Err(Error::forbidden("Only administrators may change a role or a plan."));
    }
    let mut tx = db.begin().await?;
    let current =
        db::users::find_by_id(tx.conn(), id).await?.ok_or_else(|| Error::not_found("No such user."))?.into_user();
    if current.is_admin() && change.role().is_some_and(|r| r != Role::Admin) {
        keep_an_admin(&mut tx).await?;
    }
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(Error::App(AppError::stale(
            format!("This account changed after you loaded it (now version {}).", current.version),
            current.version,
        )));
    }
    let row = match db::users::update_profile(tx.conn(), id, Some(current.version), &change, Utc::now()).await {
        Ok(row) => row,
        Err(e) if db::is_unique_violation(&e, "users_github_repo_key") => {
            return Err(Error::field("github_repo", REPO_TAKEN));
        }
        Err(e) => return Err(e.into()),
    }
    .ok_or_else(|| Error::App(AppError::conflict("This account changed at the same moment; try again.")))?;
    let mut fields = Vec::new();
    for (name, set) in [
        ("name", change.name().is_some()),
        ("avatar_url", change.avatar_url().is_some()),
        ("github_repo", change.github_repo().is_some()),
        ("role", change.role().is_some()),
        ("plan", change.plan().is_some()),
    ] {
        if set {
            fields.push(name);
        }
    }
    let detail =
        json!({ "fields": fields, "role": change.role().map(Role::as_str), "plan": change.plan().map(Plan::as_str) });
    audit(&mut tx, actor, "user.update", id, &detail).await?;
    tx.commit().await?;
    crate::services::tokens::forget_user(id);
    Ok(row.into_user())
}

/// Where an account's files live.
pub struct FileDirs<'a> {
    pub uploads: &'a Path,
    pub reports: &'a Path,
}

/// Deletes an account and everything it owns: rows (posts, comments, tokens, uploads,
/// reports cascade) in one transaction, then the files — its report exports, and each
/// uploaded file no other account's upload shares (uploads are content-addressed).
pub async fn delete(db: &Db, dirs: &FileDirs<'_>, actor: &User, id: i64) -> Result<()> {
    require_self_or_admin(actor, id)?;
    let mut tx = db.begin().await?;
    let row = db::users::find_by_id(tx.conn(), id).await?.ok_or_else(|| Error::not_found("No such user."))?;
    if row.role == Role::Admin.as_str() {
        keep_an_admin(&mut tx).await?;
    }
    let uploads = db::uploads::names_of_owner(tx.conn(), id).await?;
    let reports = db::reports::files_of_user(tx.conn(), id).await?;
    audit(&mut tx, actor, "user.delete", id, &json!({ "email": row.email, "uploads": uploads.len() })).await?;
    db::users::delete(tx.conn(), id).await?;
    tx.commit().await?;
    crate::services::tokens::forget_user(id);

    let remove = |path: std::path::PathBuf| async move {
        if let Err(e) = tokio::fs::remove_file(&path).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, path = %path.display(), "could not delete a deleted account's file");
            }
        }
    };
    for (report, format) in reports {
        remove(dirs.reports.join(format!("{report}.{format}"))).await;
    }
    let mut conn = db.acquire().await?;
    for name in uploads {
        // Only names of the stored form are ever files of ours (no path can sneak in).
        if crate::services::uploads::content_type_of_stored(&name).is_some()
            && !db::uploads::is_referenced(conn.conn(), &name).await?
        {
            remove(dirs.uploads.join(&name)).await;
        }
    }
    Ok(())
}

/// The last administrator may be neither deleted nor demoted: nobody could manage the site.
async fn keep_an_admin(tx: &mut db::Tx) -> Result<()> {
    if db::users::count_admins(tx.conn()).await? <= 1 {
        return Err(Error::App(AppError::conflict(
            "This is the last administrator account; make another administrator first.",
        )));
    }
    Ok(())
}

async fn audit(tx: &mut db::Tx, actor: &User, action: &str, id: i64, detail: &serde_json::Value) -> Result<()> {
    // A user deleting themselves leaves no actor row behind; the entry keeps the id in its detail.
    super::audit::record(tx, Some(actor), action, ("user", id), detail).await
}

/// Admin: creates an account with a role.
pub async fn create(
    db: &Db,
    actor: &User,
    account: crate::models::validation::NewAccount,
    role: Role,
    plan: Option<Plan>,
) -> Result<User> {
    require_admin(actor)?;
    let user = crate::services::accounts::register(db, account, role).await?;
    match plan {
        Some(p) if p != user.plan => {
            let change = ProfileChange::default().with_plan(Some(p));
            update(db, actor, user.id, None, change).await
        }
        _ => Ok(user),
    }
}
