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

/// [`FormError`] as HTML text, for islands that write their HTML themselves.
pub fn form_error_html(error: Option<&AppError>) -> String {
    error.filter(|e| e.errors.is_empty()).map_or_else(String::new, |e| {
        format!(r#"<p class="form-error" role="alert">{}</p>"#, html_escape::encode_text(&e.message))
    })
}

/// [`FieldError`] as HTML text.
pub fn field_error_html(error: Option<&AppError>, field: &str) -> String {
    error.and_then(|e| e.field(field)).map_or_else(String::new, |msg| {
        format!(r#"<p class="field-error" id="{field}-error">{}</p>"#, html_escape::encode_text(msg))
    })
}

/// What a plain (no JavaScript) form post to server function `S` came back with: the router
/// keeps it from the redirect's query (`__err`). Pages hand it to islands that show it.
pub fn plain_post_error<S: leptos::server_fn::ServerFn>() -> Option<AppError> {
    use leptos::server_fn::error::ServerFnUrlError;
    use_context::<ServerActionError>()
        .filter(|e| e.path() == S::PATH)
        .map(|e| ServerFnUrlError::<AppError>::decode_err(e.err()))
}
