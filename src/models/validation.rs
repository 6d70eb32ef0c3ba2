//! Input rules, written once and run in both places: the browser for instant feedback,
//! the server as the authority. A value that passes `parse` is normalised (trimmed,
//! e-mail lower-cased) and is what services store.

#[cfg(feature = "ssr")]
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use validator::{Validate, ValidationErrors};

use super::FieldError;

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const NAME_MAX: usize = 100;
pub const EMAIL_MAX: usize = 254;

/// A registration that passed every rule (checked on the server: no form in the browser needs it).
#[cfg(feature = "ssr")]
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

#[cfg(feature = "ssr")]
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

/// A password change that passed every rule (the current password is checked by the service).
#[derive(Clone)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { .. }")
    }
}

impl PasswordChange {
    pub fn parse(current: &str, new: &str, confirm: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if current.is_empty() {
            errors.push(FieldError::new("current_password", "Enter your current password."));
        }
        let n = new.chars().count();
        if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
            errors.push(FieldError::new("new_password", "Use a password between 8 and 128 characters."));
        } else if new == current {
            errors.push(FieldError::new("new_password", "Choose a password different from your current one."));
        }
        if confirm != new {
            errors.push(FieldError::new("confirm_password", "The two new passwords differ."));
        }
        if errors.is_empty() {
            Ok(PasswordChange { current: current.to_string(), new: new.to_string() })
        } else {
            Err(errors)
        }
    }
}

/// A display name: 1–100 characters once trimmed.
pub fn parse_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > NAME_MAX {
        Err(FieldError::new("name", "Enter a name between 1 and 100 characters."))
    } else {
        Ok(name.to_string())
    }
}

/// An avatar: an `http(s)` URL of at most 2,048 characters without spaces; empty clears it.
pub fn parse_avatar_url(url: &str) -> Result<Option<String>, FieldError> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && url.len() <= 2048 && !url.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            Ok(Some(url.to_string()))
        }
        _ => Err(FieldError::new("avatar_url", "Enter an http:// or https:// URL of at most 2,048 characters.")),
    }
}

/// A GitHub repository as `owner/name` (GitHub's own character rules); empty clears it.
pub fn parse_github_repo(repo: &str) -> Result<Option<String>, FieldError> {
    let repo = repo.trim();
    if repo.is_empty() {
        return Ok(None);
    }
    let ok_part = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.split_once('/') {
        Some((owner, name)) if ok_part(owner, 39) && ok_part(name, 100) && name != "." && name != ".." => {
            Ok(Some(repo.to_lowercase()))
        }
        _ => Err(FieldError::new("github_repo", "Enter a repository as owner/name, like rust-lang/rust.")),
    }
}

/// A change to a user's profile, checked: `None` leaves a field as it is, `Some(None)` clears it.
/// Built only by [`ProfileChange::parse`] (and, for administrators' fields, `with_role` /
/// `with_plan`), so it never holds a bad value.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProfileChange {
    name: Option<String>,
    avatar_url: Option<Option<String>>,
    github_repo: Option<Option<String>>,
    role: Option<super::Role>,
    plan: Option<super::Plan>,
}

impl ProfileChange {
    /// Checks each given field (an empty avatar URL or repository clears it) and reports every
    /// failing field at once.
    pub fn parse(
        name: Option<&str>,
        avatar_url: Option<&str>,
        github_repo: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep = |e: FieldError| errors.push(e);
        let name = name.and_then(|n| parse_name(n).map_err(&mut keep).ok());
        let avatar_url = avatar_url.and_then(|u| parse_avatar_url(u).map_err(&mut keep).ok());
        let github_repo = github_repo.and_then(|r| parse_github_repo(r).map_err(&mut keep).ok());
        let change = ProfileChange { name, avatar_url, github_repo, role: None, plan: None };
        if errors.is_empty() {
            Ok(change)
        } else {
            Err(errors)
        }
    }

    pub fn with_role(mut self, role: Option<super::Role>) -> Self {
        self.role = role;
        self
    }
    pub fn with_plan(mut self, plan: Option<super::Plan>) -> Self {
        self.plan = plan;
        self
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    pub fn avatar_url(&self) -> Option<Option<&str>> {
        self.avatar_url.as_ref().map(Option::as_deref)
    }
    pub fn github_repo(&self) -> Option<Option<&str>> {
        self.github_repo.as_ref().map(Option::as_deref)
    }
    pub fn role(&self) -> Option<super::Role> {
        self.role
    }
    pub fn plan(&self) -> Option<super::Plan> {
        self.plan
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

#[cfg(feature = "ssr")]
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
    fn a_password_change_needs_the_current_one_and_a_new_one_twice() {
        assert!(PasswordChange::parse("old-password", "new-password", "new-password").is_ok());
        let fields = |r: Result<PasswordChange, Vec<FieldError>>| {
            r.unwrap_err().into_iter().map(|e| e.field).collect::<Vec<_>>()
        };
        assert_eq!(
            fields(PasswordChange::parse("", "short", "other")),
            ["current_password", "new_password", "confirm_password"]
        );
        assert_eq!(fields(PasswordChange::parse("same-password", "same-password", "same-password")), ["new_password"]);
        assert!(!format!("{:?}", PasswordChange::parse("a", "new-password", "new-password").unwrap())
            .contains("new-password"));
    }

    #[test]
    fn profile_fields_are_checked() {
        assert_eq!(parse_name("  Ada ").unwrap(), "Ada");
        assert!(parse_name(" ").is_err());
        assert_eq!(parse_avatar_url("").unwrap(), None);
        assert!(parse_avatar_url("javascript:alert(1)").is_err());
        assert!(parse_avatar_url("https://").is_err());
        assert_eq!(parse_avatar_url("https://x.test/a.png").unwrap().as_deref(), Some("https://x.test/a.png"));
        assert_eq!(parse_github_repo("Rust-Lang/rust").unwrap().as_deref(), Some("rust-lang/rust"));
        for bad in ["rust", "a/b/c", "/x", "a/..", "sp ace/x"] {
            assert!(parse_github_repo(bad).is_err(), "{bad}");
        }
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
