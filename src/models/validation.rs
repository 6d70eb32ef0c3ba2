//! Input rules, written once and run in both places: the browser for instant feedback,
//! the server as the authority. A value that passes `parse` is normalised (trimmed,
//! e-mail lower-cased) and is what services store.

use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationErrors};

use super::FieldError;

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const NAME_MAX: usize = 100;
pub const EMAIL_MAX: usize = 254;

/// A registration that passed every rule.
#[derive(Debug, Clone, Validate, Serialize, Deserialize)]
pub struct NewAccount {
    #[validate(
        length(max = 254, message = "That email address is too long."),
        email(message = "Enter a valid email address, like you@example.com.")
    )]
    pub email: String,
    #[validate(length(min = 1, max = 100, message = "Enter a name between 1 and 100 characters."))]
    pub name: String,
    #[validate(length(min = 8, max = 128, message = "Use a password between 8 and 128 characters."))]
    pub password: String,
}

impl NewAccount {
    /// Normalises and validates a registration; every failing field is reported at once.
    pub fn parse(email: &str, name: &str, password: &str) -> Result<Self, Vec<FieldError>> {
        let candidate =
            NewAccount { email: normalize_email(email), name: name.trim().to_string(), password: password.to_string() };
        candidate.validate().map_err(field_errors)?;
        Ok(candidate)
    }
}

/// Credentials as typed; only checked for presence (a login never explains more).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

impl Credentials {
    pub fn parse(email: &str, password: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let email = normalize_email(email);
        if email.is_empty() {
            errors.push(FieldError::new("email", "Enter your email address."));
        }
        if password.is_empty() {
            errors.push(FieldError::new("password", "Enter your password."));
        }
        if errors.is_empty() {
            Ok(Credentials { email, password: password.to_string() })
        } else {
            Err(errors)
        }
    }
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Only same-site relative paths may be a post-login destination: `/x` but never `//host`,
/// `/\host`, a scheme, or control characters. Anything else falls back to `/dashboard`.
pub fn safe_next(next: Option<&str>) -> String {
    const FALLBACK: &str = "/dashboard";
    let Some(next) = next.map(str::trim).filter(|n| !n.is_empty()) else {
        return FALLBACK.to_string();
    };
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2048;
    if ok {
        next.to_string()
    } else {
        FALLBACK.to_string()
    }
}

/// Flattens validator's map into an ordered list (the order fields appear in forms).
pub fn field_errors(errs: ValidationErrors) -> Vec<FieldError> {
    const ORDER: [&str; 4] = ["email", "name", "password", "title"];
    let mut out: Vec<FieldError> = errs
        .field_errors()
        .into_iter()
        .filter_map(|(field, list)| {
            list.first().map(|e| {
                FieldError::new(
                    field.to_string(),
                    e.message.as_deref().map(str::to_string).unwrap_or_else(|| format!("{field} is invalid.")),
                )
            })
        })
        .collect();
    out.sort_by_key(|e| ORDER.iter().position(|f| *f == e.field).unwrap_or(ORDER.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_registration_is_normalised() {
        let a = NewAccount::parse("  Ada@Example.COM ", "  Ada ", "correct horse").unwrap();
        assert_eq!(a.email, "ada@example.com");
        assert_eq!(a.name, "Ada");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let errs = NewAccount::parse("not-an-email", "", "short").unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "name", "password"]);
    }

    #[test]
    fn passwords_are_counted_in_characters() {
        assert!(NewAccount::parse("a@b.co", "A", "ééééééé").is_err());
        assert!(NewAccount::parse("a@b.co", "A", "éééééééé").is_ok());
        assert!(NewAccount::parse("a@b.co", "A", &"x".repeat(129)).is_err());
    }

    #[test]
    fn next_accepts_only_same_site_paths() {
        assert_eq!(safe_next(Some("/dashboard?tab=1")), "/dashboard?tab=1");
        for bad in ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "dashboard", ""]
        {
            assert_eq!(safe_next(Some(bad)), "/dashboard", "{bad}");
        }
        assert_eq!(safe_next(None), "/dashboard");
    }
}
