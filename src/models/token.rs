//! Personal access tokens as their owner sees them (the settings page and the API).

use super::time::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::FieldError;

pub const TOKEN_NAME_MAX: usize = 100;
/// The longest expiry a personal token may have.
pub const TOKEN_MAX_DAYS: i64 = 365 * 5;

/// A personal access token without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// `read` and/or `write`.
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: ApiToken,
    /// The secret to send as `Authorization: Bearer <token>`. It cannot be shown again.
    pub token: String,
}

/// A token request that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTokenRequest {
    pub name: String,
    pub read: bool,
    pub write: bool,
    pub expires_in_days: Option<i64>,
}

impl NewTokenRequest {
    /// `scopes` are words from `read`/`write` (`write` implies `read`); `expires_in_days` 1–1825 or none.
    pub fn parse(name: &str, scopes: &[&str], expires_in_days: Option<i64>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > TOKEN_NAME_MAX {
            errors.push(FieldError::new("name", "Name the token (1 to 100 characters)."));
        }
        let (mut read, mut write) = (false, false);
        for s in scopes {
            match s.trim() {
                "read" => read = true,
                "write" => write = true,
                "" => {}
                _ => {
                    errors.push(FieldError::new("scopes", "Scopes are `read` and `write`."));
                    break;
                }
            }
        }
        if !read && !write && errors.iter().all(|e| e.field != "scopes") {
            errors.push(FieldError::new("scopes", "Choose at least one scope: read or write."));
        }
        if expires_in_days.is_some_and(|d| !(1..=TOKEN_MAX_DAYS).contains(&d)) {
            errors.push(FieldError::new("expires_in_days", "Expiry must be between 1 and 1825 days, or none."));
        }
        if errors.is_empty() {
            Ok(NewTokenRequest { name: name.to_string(), read: read || write, write, expires_in_days })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_requests_are_checked() {
        let ok = NewTokenRequest::parse(" ci ", &["write"], Some(30)).unwrap();
        assert_eq!((ok.name.as_str(), ok.read, ok.write), ("ci", true, true));
        let errs = NewTokenRequest::parse("", &["admin"], Some(0)).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "scopes", "expires_in_days"]);
        assert!(NewTokenRequest::parse("x", &[], None).is_err());
    }
}
