//! Background work and live events as the UI and the API show them: notifications,
//! webhook deliveries, jobs, report exports and a user's billing state.

use super::time::{DateTime, Utc};
use serde::{Deserialize, Serialize};

named_enum! {
    /// What a notification is about (also its SSE event name).
    pub enum NotificationKind {
        CommentCreated = "comment.created",
        PostLiked = "post.liked",
        PostPublished = "post.published",
        SubscriptionUpdated = "subscription.updated",
        ReportReady = "report.ready",
        PaymentFailed = "payment.failed",
        PostDrafted = "post.drafted",
    }
}

named_enum! {
    /// Where a received webhook delivery stands.
    pub enum DeliveryStatus {
        Pending = "pending",
        Processed = "processed",
        Ignored = "ignored",
        Failed = "failed",
    }
}

named_enum! {
    /// Where a background job stands.
    pub enum JobStatus {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}

named_enum! {
    /// Where a report export stands: a stored export is `running`, `complete` or `error`; its
    /// progress stream also says `started` and `processing`.
    pub enum ReportStatus {
        Started = "started",
        Running = "running",
        Processing = "processing",
        Complete = "complete",
        Error = "error",
    }
}

/// A per-user event, persisted (so an SSE client can catch up) and pushed live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct Notification {
    /// Also the SSE event's `id:` (increasing per user).
    pub id: i64,
    pub user_id: i64,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: NotificationKind,
    /// The event's details, a JSON object (serialised).
    pub data: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Notification {
    /// One line for the notifications page.
    pub fn summary(&self) -> String {
        let d: serde_json::Value = serde_json::from_str(&self.data).unwrap_or_default();
        let s = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        match self.kind {
            NotificationKind::CommentCreated => format!("{} commented on “{}”", s("author_name"), s("post_title")),
            NotificationKind::PostLiked => format!("{} liked “{}”", s("user_name"), s("post_title")),
            NotificationKind::PostPublished => format!("Your post “{}” is published", s("post_title")),
            NotificationKind::SubscriptionUpdated => format!("Your plan is now {} ({})", s("plan"), s("status")),
            NotificationKind::PaymentFailed => "A payment failed: update your billing details to keep Pro".to_string(),
            NotificationKind::ReportReady => format!("Your {} export is ready", s("kind")),
            NotificationKind::PostDrafted => format!("A draft “{}” was created from a GitHub release", s("post_title")),
        }
    }

    /// Where the notification leads, if anywhere.
    pub fn link(&self) -> Option<String> {
        let d: serde_json::Value = serde_json::from_str(&self.data).ok()?;
        d.get("url").and_then(|v| v.as_str()).map(str::to_string)
    }
}

/// Unread count and the newest notifications, for the header and the notifications page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NotificationPage {
    pub unread: i64,
    pub items: Vec<Notification>,
}

/// A webhook delivery as stored (payload kept for reprocessing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct WebhookEvent {
    pub id: i64,
    pub source: String,
    pub external_id: String,
    pub kind: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// A background job as the admin page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What `/admin` lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AdminOverview {
    pub webhook_events: Vec<WebhookEvent>,
    pub jobs: Vec<Job>,
    pub users: Vec<super::User>,
    pub audit: Vec<AuditEntry>,
    pub queue_depth: i64,
}

/// One audit log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditEntry {
    pub id: i64,
    pub actor_name: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

/// A user's subscription as Stripe last told us.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Billing {
    pub plan: super::Plan,
    pub customer_linked: bool,
    /// Stripe's status (`active`, `trialing`, `past_due`, `canceled`…), if any subscription exists.
    pub status: Option<String>,
    pub current_period_end: Option<DateTime<Utc>>,
    /// The Checkout / Payment Link URL with `client_reference_id` set, when configured.
    pub upgrade_url: Option<String>,
}

named_enum! {
    /// What a report export holds.
    pub enum ReportKind {
        /// The caller's own posts.
        MyPosts = "my_posts",
        /// Site statistics per day (administrators only).
        SiteStats = "site_stats",
    }
}

named_enum! {
    pub enum ReportFormat {
        Csv = "csv",
        Json = "json",
    }
}

impl ReportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Json => "application/json",
        }
    }
}

/// A report export as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportInfo {
    pub id: String,
    pub kind: ReportKind,
    pub format: ReportFormat,
    pub status: ReportStatus,
    pub row_count: i64,
    pub byte_size: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Where to download it (when complete).
    pub download_url: String,
    /// The file name the download is saved under.
    pub file_name: String,
}
