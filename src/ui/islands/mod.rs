//! Islands: the only parts of the UI that run in the browser. Every page renders on the
//! server, and its forms are plain HTML forms that work without JavaScript; the browser
//! bundle holds these few components alone, each hydrated where it appears:
//! - [`badge::UnreadBadge`]: the header's unread count, live over the event stream;
//! - [`post::LiveLike`] and [`post::LiveComments`]: liking, commenting and deleting without
//!   a reload, and new comments arriving live;
//! - [`dashboard::MyPosts`]: publish, unpublish and delete without a reload;
//! - [`editor::LiveEditor`]: instant validation, image upload with progress, stale-edit conflicts;
//! - [`reports::Exporter`]: an export's streamed progress, the download and the list;
//! - [`ops::OpsCharts`]: the operations dashboard's charts, moving once a second.
//!
//! Islands take plain, serialisable props (they travel in the page) and use no context from
//! the server-rendered page around them: links inside them are plain `<a>`. The islands on
//! the most visited pages (badge, post, editor) take no props at all: the server renders
//! their markup (`badge::NotificationBadge`, `post::LikeButton`, `post::Comments`,
//! `editor::PostEditor`) and hands it in as children, the island reads what it needs from the
//! page's `data-*` attributes and JSON answers with the browser's `JSON.parse`
//! (`ui::browser::json`). An island with props deserialises them with serde_json, which
//! costs every page that loads it ~30 kB of brotli wasm.

pub mod badge;
pub mod dashboard;
pub mod editor;
pub mod ops;
pub mod post;
pub mod reports;
