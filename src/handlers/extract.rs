//! Extractors whose rejections speak the API's error format.

use axum::{
    extract::{rejection::JsonRejection, FromRequest, Request},
    http::StatusCode,
};
use serde::de::DeserializeOwned;

use crate::{
    error::Error,
    models::{AppError, ErrorCode},
};

/// Like `axum::Json`, but: a missing or wrong `Content-Type` is 415, an over-size body 413,
/// and malformed JSON, unknown fields, wrong types or a string with a NUL character 400 —
/// all as problem+json.
pub struct Json<T>(pub T);

/// `application/json` or any `application/*+json`, any parameters.
pub fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(v) = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        if !is_json_content_type(req.headers()) {
            return Err(Error::App(AppError::new(
                ErrorCode::UnsupportedMediaType,
                "Send the body as JSON with `Content-Type: application/json`.",
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                crate::middleware::body_limit::too_large(crate::middleware::body_limit::JSON_BODY_LIMIT)
            } else {
                Error::bad_request("The request body could not be read.")
            }
        })?;
        if crate::middleware::input_guard::json_has_nul(&bytes) {
            return Err(Error::bad_request(
                "A JSON string contains a NUL character (\\u0000), which is never valid here.",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(Error::App(rejection_to_error(rejection))),
        }
    }
}

fn rejection_to_error(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        JsonRejection::JsonSyntaxError(e) => {
            AppError::bad_request(format!("The body is not valid JSON: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => {
            AppError::bad_request(format!("The JSON does not fit this endpoint: {}", e.body_text()))
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(ErrorCode::PayloadTooLarge, "The request body is larger than 1 MiB.")
        }
        other => AppError::bad_request(other.body_text()),
    }
}

/// Query strings, with repeated keys (`?tag=a&tag=b`) into `Vec`s; a value of the wrong
/// type is a 400 problem naming the parameter.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Error> {
        let raw = parts.uri.query().unwrap_or("");
        let de = serde_html_form::Deserializer::from_bytes(raw.as_bytes());
        serde_path_to_error::deserialize::<_, T>(de).map(Query).map_err(|e| {
            let path = e.path().to_string();
            if path.is_empty() || path == "." {
                Error::bad_request(format!("The query string is not valid: {}.", e.inner()))
            } else {
                Error::bad_request(format!("The query parameter `{path}` is not valid: {}.", e.inner()))
            }
        })
    }
}

/// For optional query parameters: absent is `None`, but a parameter that is present must
/// parse — `?category=` (empty) is a bad value, not "no filter" (use with `#[serde(default)]`).
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A resource id from the path: a positive integer, or 400.
pub struct Id(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Id {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Error> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::bad_request("The path must end with a resource id."))?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Id(id)),
            _ => Err(Error::bad_request(format!("`{raw}` is not a valid id (a positive integer)."))),
        }
    }
}

/// The version a conditional write expects, from `If-Match: "<version>"`. Required:
/// a missing header is 428; a header that names no version is 412 like any mismatch.
pub struct IfMatch(pub Option<i64>);

impl IfMatch {
    /// Parses `"3"`, `W/"3"`, `3` or `*` (any version: `None`).
    pub fn parse(raw: &str) -> Option<Option<i64>> {
        let raw = raw.trim();
        if raw == "*" {
            return Some(None);
        }
        let first = raw.split(',').next()?.trim().trim_start_matches("W/").trim_matches('"');
        first.parse::<i64>().ok().map(Some)
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IfMatch {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Error> {
        let Some(value) = parts.headers.get(axum::http::header::IF_MATCH) else {
            return Err(Error::App(AppError::new(
                ErrorCode::PreconditionRequired,
                "Send If-Match with the ETag you read (for example If-Match: \"3\"), so a concurrent change is not overwritten.",
            )));
        };
        match value.to_str().ok().and_then(IfMatch::parse) {
            Some(v) => Ok(IfMatch(v)),
            None => Err(Error::App(AppError::new(
                ErrorCode::PreconditionFailed,
                "If-Match does not name a version of this resource; send the ETag you read.",
            ))),
        }
    }
}

/// Maps a stale-write conflict from a service to 412 with `current_version` (the REST
/// answer to a failed `If-Match`); other errors pass unchanged.
pub fn precondition(e: Error) -> Error {
    match e {
        Error::App(mut app) if app.code == ErrorCode::Conflict && app.current_version.is_some() => {
            app.code = ErrorCode::PreconditionFailed;
            Error::App(app)
        }
        other => other,
    }
}

/// A versioned resource as JSON with `ETag: "<version>"` (what `If-Match` then names), and a
/// `Location` when it was just created.
pub fn versioned_json<T: serde::Serialize>(
    status: axum::http::StatusCode,
    version: i64,
    body: T,
    location: Option<String>,
) -> axum::response::Response {
    use axum::{
        http::{header, HeaderValue},
        response::IntoResponse,
    };
    let mut res = (status, axum::Json(body)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, etag);
    }
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LOCATION, l);
    }
    res
}
