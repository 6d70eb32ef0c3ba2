//! Error display for forms: one message for the form, one per field.

use leptos::prelude::*;

use crate::models::AppError;

/// The form-level message (omitted for validation errors, whose fields speak for themselves).
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! { <p class="form-error" role="alert">{e.message.clone()}</p> }
        })
    }
}

/// The message for one field, shown right under it.
#[component]
pub fn FieldError(#[prop(into)] error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.field(field).map(str::to_string)).map(|msg| {
            view! { <p class="field-error" id=format!("{field}-error")>{msg}</p> }
        })
    }
}
