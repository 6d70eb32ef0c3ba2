//! Types shared by the server and the browser: what the UI shows, what forms send,
//! the rules that judge them, and the error shape server functions return.

pub mod error;
pub mod events;
pub mod post;
pub mod time;
pub mod token;
pub mod user;
pub mod validation;

pub use error::{AppError, ErrorCode, FieldError};
pub use events::{
    AdminOverview, AuditEntry, Billing, Job, Notification, NotificationPage, ReportFormat, ReportInfo, ReportKind,
    WebhookEvent,
};
pub use post::{Category, Comment, CommentPage, CommentWindow, Post, PostContent, PostStats, PostView};
pub use token::{ApiToken, CreatedToken, NewTokenRequest};
pub use user::{Plan, Role, User};
