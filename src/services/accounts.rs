//! Accounts: registration, sign-in and look-up.

use chrono::Utc;

use crate::{
    db::{self, users::NewUser, Db},
    error::{Error, Result},
    models::{
        validation::{Credentials, NewAccount},
        Role, User,
    },
    services::passwords,
};

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
