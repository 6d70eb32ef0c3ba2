//! Types shared by the server and the browser: what the UI shows, what forms send,
//! the rules that judge them, and the error shape server functions return.

/// An enum whose values each have one name: stored, sent and shown as that string, with one
/// `as_str` and one `parse` (and `TryFrom<String>` for reading it from a row).
macro_rules! named_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        // The schema is written out, not derived: utoipa's derive does not see a `rename` whose
        // name arrives through a macro, and would document the variants' Rust names.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::NAMES.iter().copied()))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::models::UnknownName;

            fn try_from(s: String) -> Result<Self, $crate::models::UnknownName> {
                Self::parse(&s).ok_or($crate::models::UnknownName(s))
            }
        }
    };
}

/// A stored name that no variant of a [`named_enum!`] has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown name `{}`", self.0)
    }
}

impl std::error::Error for UnknownName {}

pub mod error;
pub mod events;
pub mod list;
pub mod ops;
pub mod post;
pub mod time;
pub mod token;
pub mod user;
pub mod validation;

pub use error::{AppError, ErrorCode, FieldError};
pub use events::{
    AdminOverview, AuditEntry, Billing, DeliveryStatus, Job, JobStatus, Notification, NotificationKind,
    NotificationPage, ReportFormat, ReportInfo, ReportKind, ReportStatus, WebhookEvent,
};
pub use post::{Category, Comment, CommentPage, CommentWindow, Post, PostContent, PostStats, PostView};
pub use token::{ApiToken, CreatedToken, NewTokenRequest};
pub use user::{Plan, Role, User};
