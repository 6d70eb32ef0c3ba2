//! GraphQL at `/api/graphql`, spoken as the GraphQL over HTTP specification says (its audit
//! suite, npm `graphql-http`, runs in the test command):
//! - `GET` runs queries only: a mutation over `GET` is a 405 with `Allow: POST`, so a link or
//!   an image (`![](/api/graphql?query=mutation…)`) can never change anything;
//! - `POST` takes `application/json` (UTF-8) only: anything else is a 415, so no "simple"
//!   cross-site form or `text/plain` request can reach a mutation; cookie callers also pass the
//!   Origin check (`middleware::origin_check`);
//! - the answer is `application/graphql-response+json` when the client accepts it (a request
//!   that cannot run — unparseable, invalid — is then a 400 without `data`), else
//!   `application/json` (200 for any well-formed request, as the specification asks);
//! - a malformed request (bad JSON, a missing or non-string `query`, `variables` that are not
//!   an object…) is a 400 either way.

mod schema;

pub use schema::{schema, QuireSchema, MAX_COMPLEXITY, MAX_DEPTH};

use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::{
    body::Bytes,
    extract::{FromRequest, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{json, Map, Value};

use super::extract::is_json_content_type;
use crate::{
    middleware::{
        auth::Caller,
        body_limit::{too_large, JSON_BODY_LIMIT},
        input_guard::json_has_nul,
    },
    state::AppState,
};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// Which media type the answer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    /// The first acceptable type the client lists; `application/json` when it names neither
    /// (or sends no `Accept`, or `*/*`).
    fn negotiate(headers: &HeaderMap) -> Media {
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused =
                parts.any(|p| matches!(p.trim().replace(' ', "").as_str(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            if refused {
                continue;
            }
            match essence.as_str() {
                "application/graphql-response+json" => return Media::GraphqlResponse,
                "application/json" | "*/*" | "application/*" => return Media::Json,
                _ => {}
            }
        }
        Media::Json
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::GraphqlResponse => GRAPHQL_RESPONSE,
            Media::Json => JSON,
        })
    }
}

fn answer(media: Media, status: StatusCode, body: &Value) -> Response {
    let mut res = (status, serde_json::to_vec(body).unwrap_or_default()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, media.content_type());
    res
}

/// A request that cannot be executed: 400 (or `status`) with a GraphQL error list, no `data`.
fn refuse(media: Media, status: StatusCode, message: &str) -> Response {
    answer(media, status, &json!({ "errors": [{ "message": message }] }))
}

/// The parameters of a GraphQL-over-HTTP request.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

/// `variables` and `extensions` must be JSON objects (or absent/null).
fn object_or_null(name: &str, v: Option<Value>) -> Result<Option<Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(format!("`{name}` must be a JSON object.")),
    }
}

fn from_body(bytes: &[u8]) -> Result<Params, String> {
    if bytes.is_empty() {
        return Err("The request needs a JSON body with a `query`.".into());
    }
    if json_has_nul(bytes) {
        return Err("A JSON string contains a NUL character (\\u0000), which is never valid here.".into());
    }
    let Value::Object(mut body) =
        serde_json::from_slice::<Value>(bytes).map_err(|e| format!("The body is not valid JSON: {e}."))?
    else {
        return Err("The body must be a JSON object with a `query`.".into());
    };
    let query = match body.remove("query") {
        Some(Value::String(q)) => q,
        Some(_) => return Err("`query` must be a string.".into()),
        None => return Err("The request has no `query`.".into()),
    };
    let operation_name = match body.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err("`operationName` must be a string.".into()),
    };
    Ok(Params {
        query,
        operation_name,
        variables: object_or_null("variables", body.remove("variables"))?,
        extensions: object_or_null("extensions", body.remove("extensions"))?,
    })
}

fn from_query_string(raw: &str) -> Result<Params, String> {
    let pairs: Vec<(String, String)> =
        serde_html_form::from_str(raw).map_err(|e| format!("The query string is not valid: {e}."))?;
    let mut map: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), Value::String(v)).is_some() {
            return Err(format!("`{k}` is given more than once."));
        }
    }
    if map.values().any(|v| v.as_str().is_some_and(|s| s.contains('\0'))) {
        return Err("The query string contains a NUL character.".into());
    }
    let parse_json = |name: &str, v: Option<Value>| -> Result<Option<Value>, String> {
        match v {
            None => Ok(None),
            Some(Value::String(s)) => {
                let parsed: Value = serde_json::from_str(&s).map_err(|_| format!("`{name}` must be a JSON object."))?;
                object_or_null(name, Some(parsed))
            }
            Some(_) => Err(format!("`{name}` must be a JSON object.")),
        }
    };
    let query = match map.remove("query") {
        Some(Value::String(q)) => q,
        _ => return Err("The request has no `query`.".into()),
    };
    let operation_name = map.remove("operationName").and_then(|v| v.as_str().map(str::to_string));
    Ok(Params {
        query,
        operation_name,
        variables: parse_json("variables", map.remove("variables"))?,
        extensions: parse_json("extensions", map.remove("extensions"))?,
    })
}

/// POST bodies must be `application/json` in UTF-8 (the only charset JSON has).
fn acceptable_post(headers: &HeaderMap) -> bool {
    if !is_json_content_type(headers) {
        return false;
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    ct.split(';').skip(1).all(|p| {
        let p = p.trim().to_ascii_lowercase();
        !p.starts_with("charset=") || matches!(p.trim_start_matches("charset=").trim_matches('"'), "utf-8" | "utf8")
    })
}

/// The type of the operation a document would run (`None` when it cannot tell: the
/// execution then reports why).
fn operation_type(query: &str, operation_name: Option<&str>) -> Option<OperationType> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.iter().find(|(n, _)| n.as_str() == name).map(|(_, op)| op.node.ty)
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// `GET` and `POST /api/graphql`, authenticated as REST is.
pub async fn handler(State(state): State<AppState>, caller: Option<Caller>, req: Request) -> Response {
    let media = Media::negotiate(req.headers());
    let params = if req.method() == Method::POST {
        if !acceptable_post(req.headers()) {
            return refuse(
                media,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send GraphQL requests as `Content-Type: application/json`.",
            );
        }
        let bytes = match Bytes::from_request(req, &()).await {
            Ok(b) => b,
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return too_large(JSON_BODY_LIMIT).into_response();
            }
            Err(_) => return refuse(media, StatusCode::BAD_REQUEST, "The request body could not be read."),
        };
        from_body(&bytes)
    } else {
        from_query_string(req.uri().query().unwrap_or("")).and_then(|p| {
            match operation_type(&p.query, p.operation_name.as_deref()) {
                Some(OperationType::Mutation | OperationType::Subscription) => Err(String::new()),
                _ => Ok(p),
            }
        })
    };
    let params = match params {
        Ok(p) => p,
        Err(message) if message.is_empty() => {
            let mut res =
                refuse(media, StatusCode::METHOD_NOT_ALLOWED, "GET runs queries only; send mutations with POST.");
            res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            return res;
        }
        Err(message) => return refuse(media, StatusCode::BAD_REQUEST, &message),
    };

    let mut request = async_graphql::Request::new(params.query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        request = request.variables(async_graphql::Variables::from_json(vars));
    }
    if let Some(Value::Object(ext)) = params.extensions {
        for (k, v) in ext {
            if let Ok(v) = async_graphql::Value::from_json(v) {
                request.extensions.insert(k, v);
            }
        }
    }
    let response = schema().execute(request.data(state).data(caller)).await;

    // A request error (it could not be parsed, validated or its variables coerced): nothing
    // ran, so there is no `data`, and with graphql-response+json the status says so.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut body = Map::new();
    if !request_error {
        body.insert("data".into(), response.data.into_json().unwrap_or(Value::Null));
    }
    if !response.errors.is_empty() {
        body.insert("errors".into(), serde_json::to_value(&response.errors).unwrap_or(Value::Null));
    }
    if !response.extensions.is_empty() {
        body.insert("extensions".into(), serde_json::to_value(&response.extensions).unwrap_or(Value::Null));
    }
    let status =
        if request_error && media == Media::GraphqlResponse { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    answer(media, status, &Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_a_get_would_run_is_found() {
        assert_eq!(operation_type("{ posts { hasMore } }", None), Some(OperationType::Query));
        assert_eq!(
            operation_type("mutation { createComment(postId: 1, body: \"x\") { id } }", None),
            Some(OperationType::Mutation)
        );
        let two = "query A { me { id } } mutation B { createComment(postId: 1, body: \"x\") { id } }";
        assert_eq!(operation_type(two, Some("B")), Some(OperationType::Mutation));
        assert_eq!(operation_type(two, Some("A")), Some(OperationType::Query));
        assert_eq!(operation_type("{", None), None);
    }

    #[test]
    fn accept_picks_the_first_known_type() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
            m
        };
        assert_eq!(Media::negotiate(&h("application/graphql-response+json")), Media::GraphqlResponse);
        assert_eq!(Media::negotiate(&h("application/json, application/graphql-response+json")), Media::Json);
        assert_eq!(Media::negotiate(&h("*/*")), Media::Json);
        assert_eq!(Media::negotiate(&HeaderMap::new()), Media::Json);
        assert_eq!(Media::negotiate(&h("application/graphql-response+json;q=0, application/json")), Media::Json);
    }
}
