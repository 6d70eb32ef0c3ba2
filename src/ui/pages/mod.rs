//! One module per page.

pub mod admin;
pub mod dashboard;
pub mod editor;
pub mod home;
pub mod login;
pub mod not_found;
pub mod notifications;
pub mod ops;
pub mod post;
pub mod register;
pub mod reports;
pub mod settings;
