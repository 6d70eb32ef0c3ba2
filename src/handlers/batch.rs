//! `POST /api/v1/batch`: up to ten API calls in one request, run in order through the
//! whole application stack (every layer, the same router) with the caller's own
//! credentials, each answered with its status and body.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::{ConnectInfo, Extension, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request},
    Router,
};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use utoipa::ToSchema;

use super::extract::Json;
use crate::middleware::problem::Problem;
use crate::{
    error::{Error, Result},
    middleware::{auth::Caller, request_id::RequestId},
    models::FieldError,
    state::AppState,
};

/// The application a batch runs its operations through (absent inside a batch: no nesting).
#[derive(Clone)]
pub struct BatchTarget(pub Router);

pub const MAX_OPERATIONS: usize = 10;
/// An operation's answer is cut off beyond this.
const MAX_RESULT_BYTES: usize = 4 * 1024 * 1024;
/// Request headers an operation may set for itself.
const OPERATION_HEADERS: [&str; 3] = ["if-match", "if-none-match", "accept-version"];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// An API path such as `/api/v1/posts/3`.
    pub path: String,
    /// The JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// Per-operation `If-Match`, `If-None-Match` or `Accept-Version`.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// 1–10 operations, run in order.
    #[schema(min_items = 1, max_items = 10)]
    pub operations: Vec<Operation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperationResult {
    pub status: u16,
    /// The operation's JSON answer (a problem document on failure; `null` when empty).
    pub body: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResults {
    pub results: Vec<OperationResult>,
}

fn validate(ops: &[Operation]) -> Result<Vec<Method>> {
    if ops.is_empty() || ops.len() > MAX_OPERATIONS {
        return Err(Error::bad_request(format!("A batch holds 1 to {MAX_OPERATIONS} operations.")));
    }
    let mut errors = Vec::new();
    let mut methods = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let method = match op.method.to_ascii_uppercase().as_str() {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "PATCH" => Method::PATCH,
            "DELETE" => Method::DELETE,
            _ => {
                errors.push(FieldError::new(format!("operations[{i}].method"), "Use GET, POST, PUT, PATCH or DELETE."));
                Method::GET
            }
        };
        methods.push(method);
        let path_only = op.path.split('?').next().unwrap_or("");
        if !op.path.starts_with("/api/") || op.path.len() > 2048 || op.path.parse::<axum::http::Uri>().is_err() {
            errors.push(FieldError::new(format!("operations[{i}].path"), "Give an API path starting with /api/."));
        } else if path_only.trim_end_matches('/').ends_with("/batch") {
            errors.push(FieldError::new(format!("operations[{i}].path"), "Batches cannot be nested."));
        }
        if let Some(h) = op.headers.keys().find(|h| !OPERATION_HEADERS.contains(&h.to_ascii_lowercase().as_str())) {
            errors.push(FieldError::new(
                format!("operations[{i}].headers"),
                format!("`{h}` cannot be set per operation (only If-Match, If-None-Match, Accept-Version)."),
            ));
        }
    }
    if errors.is_empty() {
        Ok(methods)
    } else {
        Err(Error::App(crate::models::AppError {
            code: crate::models::ErrorCode::BadRequest,
            message: "Some operations are not valid.".into(),
            errors,
            current_version: None,
        }))
    }
}

/// Run several API calls in one request.
#[utoipa::path(post, path = "/api/v1/batch", tag = "batch", request_body = BatchBody,
    responses(
        (status = 200, description = "Each operation's status and body, in order", body = BatchResults),
        (status = 409, description = "Same Idempotency-Key still running", body = Problem),
        (status = 422, description = "Idempotency-Key reused", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn run(
    State(_state): State<AppState>,
    _caller: Caller,
    target: Option<Extension<BatchTarget>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    request_id: Option<Extension<RequestId>>,
    headers: HeaderMap,
    Json(batch): Json<BatchBody>,
) -> Result<axum::Json<BatchResults>> {
    let Some(Extension(BatchTarget(app))) = target else {
        return Err(Error::bad_request("Batches cannot be nested."));
    };
    let methods = validate(&batch.operations)?;
    let outer_id = request_id.map(|r| r.0 .0.to_string()).unwrap_or_else(|| "batch".into());
    let mut results = Vec::with_capacity(batch.operations.len());
    for (i, (op, method)) in batch.operations.into_iter().zip(methods).enumerate() {
        let mut req = Request::builder().method(method).uri(&op.path);
        for name in [header::AUTHORIZATION, header::COOKIE, header::HOST, header::ORIGIN] {
            if let Some(v) = headers.get(&name) {
                req = req.header(name, v.clone());
            }
        }
        req = req.header("x-request-id", format!("{outer_id}.{i}")).header(header::ACCEPT, "application/json");
        for (k, v) in &op.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
                req = req.header(k, v);
            }
        }
        let body = match &op.body {
            Some(json) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(json).unwrap_or_default())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).map_err(|e| Error::bad_request(format!("operations[{i}]: {e}")))?;
        if let Some(Extension(peer)) = &peer {
            req.extensions_mut().insert(*peer);
        }
        let res = match app.clone().oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        };
        let status = res.status().as_u16();
        let is_json = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"application/problem+json")
        });
        let bytes = axum::body::to_bytes(res.into_body(), MAX_RESULT_BYTES).await.unwrap_or_default();
        let body = if bytes.is_empty() {
            serde_json::Value::Null
        } else if is_json {
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
        } else {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        };
        results.push(OperationResult { status, body });
    }
    Ok(axum::Json(BatchResults { results }))
}
