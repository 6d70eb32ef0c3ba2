//! `POST /api/v1/uploads` (multipart field `file`, ≤ 10 MiB, images judged by content)
//! and `GET /uploads/{name}` (served with its type, `nosniff` and a year of caching:
//! a content-addressed name never changes meaning).

use axum::{
    extract::{Multipart, Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::middleware::problem::Problem;
use crate::{
    error::{Error, Result},
    middleware::auth::Writer,
    models::{AppError, ErrorCode},
    services::uploads::{self, Upload},
    state::AppState,
};

pub use crate::middleware::body_limit::UPLOAD_BODY_LIMIT as BODY_LIMIT;

fn multipart_error(e: axum::extract::multipart::MultipartError) -> Error {
    if crate::middleware::timeout::is_idle_timeout(&e) {
        Error::App(AppError::new(
            ErrorCode::RequestTimeout,
            "The upload stalled: nothing arrived for too long. Try again on a steadier connection.",
        ))
    } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::App(AppError::new(ErrorCode::PayloadTooLarge, "The file is larger than 10 MiB."))
    } else {
        Error::bad_request(format!("The multipart body could not be read: {}", e.body_text()))
    }
}

/// The upload form, for the API document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// A JPEG, PNG, WebP or GIF image of at most 10 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload an image (multipart field `file`).
#[utoipa::path(post, path = "/api/v1/uploads", tag = "uploads",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = Upload, headers(("Location" = String))),
        (status = 403, description = "Read-only token", body = Problem),
        (status = 408, description = "The upload stalled (nothing arrived for the idle timeout)", body = Problem),
        (status = 413, description = "Over 10 MiB", body = Problem),
        (status = 415, description = "Not an accepted image type (judged by content)", body = Problem),
        (status = 422, description = "No `file` field", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(State(state): State<AppState>, Writer(caller): Writer, req: Request) -> Result<Response> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(Error::App(AppError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the file as multipart/form-data with a field named `file`.",
        )));
    }
    let mut form = <Multipart as axum::extract::FromRequest<()>>::from_request(req, &())
        .await
        .map_err(|e| Error::bad_request(format!("The multipart body could not be read: {}", e.body_text())))?;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let original = field.file_name().unwrap_or("upload").to_string();
        let chunks = field.map(|c| c.map_err(multipart_error));
        let upload =
            uploads::store(&state.db, &state.config.upload_dir, &caller.user, &original, Box::pin(chunks)).await?;
        let location = HeaderValue::from_str(&upload.url).ok();
        let mut res = (StatusCode::CREATED, axum::Json(upload)).into_response();
        if let Some(l) = location {
            res.headers_mut().insert(header::LOCATION, l);
        }
        return Ok(res);
    }
    Err(Error::field("file", "Attach the image in a multipart field named `file`."))
}

/// Serves a stored upload.
pub async fn serve(State(state): State<AppState>, Path(name): Path<String>, req: Request) -> Response {
    let Some(mime) = uploads::content_type_of_stored(&name) else {
        return Error::not_found("No such upload.").into_response();
    };
    let path = state.config.upload_dir.join(&name);
    let mut res = match ServeFile::new(&path).oneshot(req).await {
        Ok(res) => res.map(axum::body::Body::new),
        Err(e) => return Error::internal(e).into_response(),
    };
    if res.status() == StatusCode::NOT_FOUND {
        return Error::not_found("No such upload.").into_response();
    }
    let h = res.headers_mut();
    if h.contains_key(header::CONTENT_TYPE) {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    res
}
