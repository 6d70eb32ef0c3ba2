//! The public view of an account (never carries the password hash).

use super::time::{DateTime, Utc};
use serde::{Deserialize, Serialize};

named_enum! {
    #[derive(Default)]
    #[cfg_attr(feature = "ssr", derive(async_graphql::Enum))]
    pub enum Role {
        #[default]
        User = "user",
        Admin = "admin",
    }
}

named_enum! {
    #[derive(Default)]
    #[cfg_attr(feature = "ssr", derive(async_graphql::Enum))]
    pub enum Plan {
        #[default]
        Free = "free",
        Pro = "pro",
    }
}

/// A user as the UI and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, async_graphql::SimpleObject))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub plan: Plan,
    pub avatar_url: Option<String>,
    pub github_repo: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
