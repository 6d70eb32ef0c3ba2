//! Accounts: registration, sign-in and look-up.

use chrono::Utc;
use tower_sessions::session::Id as SessionId;

use crate::{
    db::{self, users::NewUser, Db},
    error::{Error, Result},
    models::{
        validation::{Credentials, NewAccount, PasswordChange},
        Role, User,
    },
    services::passwords,
};

/// Session keys: the signed-in user, and their session epoch at sign-in (a password change
/// starts a new epoch, which ends every session signed in before it).
pub const USER_ID_KEY: &str = "user_id";
pub const EPOCH_KEY: &str = "auth_epoch";

pub const EMAIL_TAKEN: &str = "An account with this email already exists.";
/// The only thing a failed sign-in says: it never reveals whether the e-mail exists.
pub const BAD_CREDENTIALS: &str = "Invalid email or password.";

/// Creates an account. A taken e-mail (in any letter case) is a field error on `email`.
pub async fn register(db: &Db, account: NewAccount, role: Role) -> Result<User> {
    let password_hash = passwords::hash(account.password).await?;
    let mut conn = db.acquire().await?;
    let new =
        NewUser { email: &account.email, name: &account.name, password_hash: &password_hash, role, now: Utc::now() };
    match db::users::insert(conn.conn(), &new).await {
        Ok(row) => {
            tracing::info!(user_id = row.id, "account created");
            Ok(row.into_user())
        }
        Err(e) if db::is_unique_violation(&e, "users_email_key") => Err(Error::field("email", EMAIL_TAKEN)),
        Err(e) => Err(e.into()),
    }
}

/// Checks an e-mail and password. Unknown e-mail and wrong password fail alike, and take
/// as long as each other (the password is always checked against some argon2id hash).
pub async fn authenticate(db: &Db, creds: Credentials) -> Result<User> {
    let row = {
        let mut conn = db.acquire().await?;
        db::users::find_by_email(conn.conn(), &creds.email).await?
    };
    let (stored, row) = match row {
        Some(row) => (row.password_hash.clone(), Some(row)),
        None => (passwords::dummy_hash().await.to_string(), None),
    };
    let ok = passwords::verify(creds.password, stored).await?;
    match row {
        Some(row) if ok => Ok(row.into_user()),
        _ => Err(Error::unauthorized(BAD_CREDENTIALS)),
    }
}

pub async fn find(db: &Db, id: i64) -> Result<Option<User>> {
    let mut conn = db.acquire().await?;
    Ok(db::users::find_by_id(conn.conn(), id).await?.map(|r| r.into_user()))
}

/// The account's current session epoch.
pub async fn auth_epoch(db: &Db, id: i64) -> Result<Option<i64>> {
    let mut conn = db.acquire().await?;
    Ok(db::users::find_by_id(conn.conn(), id).await?.map(|r| r.auth_epoch))
}

/// The account a session signed in as, if it exists and the session's epoch is current.
pub async fn find_session_user(db: &Db, id: i64, epoch: i64) -> Result<Option<User>> {
    let mut conn = db.acquire().await?;
    Ok(db::users::find_by_id(conn.conn(), id).await?.filter(|r| r.auth_epoch == epoch).map(|r| r.into_user()))
}

/// Whether session `session_id` still signs in `user_id`: it exists and has not expired (not
/// signed out), and the account exists and its password has not changed since.
pub async fn session_stands(db: &Db, session_id: &SessionId, user_id: i64) -> Result<bool> {
    use tower_sessions::SessionStore as _;
    let record = db::sessions::SessionStore::new(db).load(session_id).await.map_err(Error::internal)?;
    let Some(record) = record else { return Ok(false) };
    if record.expiry_date <= time::OffsetDateTime::now_utc() {
        return Ok(false);
    }
    let int = |k: &str| record.data.get(k).and_then(serde_json::Value::as_i64);
    if int(USER_ID_KEY) != Some(user_id) {
        return Ok(false);
    }
    let epoch = int(EPOCH_KEY).unwrap_or(0);
    Ok(find_session_user(db, user_id, epoch).await?.is_some())
}

/// Changes a password: the current one must be right (else a field error, like a failed
/// sign-in), the new one is hashed (argon2id, off the async threads) and stored with a new
/// session epoch, which ends every session signed in before; audited in the same
/// transaction. Returns the new epoch for the caller's own, re-issued session.
pub async fn change_password(db: &Db, user: &User, change: PasswordChange) -> Result<i64> {
    let stored = {
        let mut conn = db.acquire().await?;
        db::users::find_by_id(conn.conn(), user.id).await?.ok_or_else(|| Error::not_found("No such account."))?
    };
    if !passwords::verify(change.current, stored.password_hash).await? {
        return Err(Error::field("current_password", "That is not your current password."));
    }
    let hash = passwords::hash(change.new).await?;
    let mut tx = db.begin().await?;
    let epoch = db::users::set_password(tx.conn(), user.id, &hash, Utc::now())
        .await?
        .ok_or_else(|| Error::not_found("No such account."))?;
    let detail = serde_json::json!({});
    super::audit::record(&mut tx, Some(&user), "user.password_change", ("user", user.id), &detail).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "password changed; other sessions ended");
    Ok(epoch)
}
