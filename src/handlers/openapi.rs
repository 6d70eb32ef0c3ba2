//! The OpenAPI 3.1 document, generated from the handlers' annotations and types
//! (utoipa), served at `/api/v1/openapi.json`, and `/api/docs`, which renders it with
//! Swagger UI served by Quire itself (no CDN).

use std::sync::OnceLock;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use utoipa::{
    openapi::{
        self,
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
        ContentBuilder, RefOr, ResponseBuilder,
    },
    Modify, OpenApi,
};

use super::{
    auth, batch, comments, events, health, me, notifications, ops, posts, reports, tokens, uploads, users, webhooks,
};
use crate::middleware::problem::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quire API",
        description = "Quire's REST API. Errors are application/problem+json. Authenticate with \
            `Authorization: Bearer <token>` or the browser session cookie. Unversioned `/api/...` paths serve the \
            version named by `Accept-Version` (default: the latest, 2); `/api/v1/...` is canonical.",
    ),
    servers((url = "/")),
    paths(
        health::show, health::ready, auth::register, auth::token, me::show,
        users::list, users::create, users::show, users::patch, users::delete,
        posts::list, posts::create, posts::show, posts::replace, posts::patch, posts::delete, posts::list_v2,
        comments::list, comments::create, comments::delete, comments::like, comments::unlike, comments::tags,
        tokens::list, tokens::create, tokens::revoke,
        uploads::create, batch::run, document,
        events::stream, events::post_stream, ops::stream, notifications::list, notifications::mark_read,
        reports::create, reports::list, reports::download, webhooks::stripe, webhooks::github,
    ),
    components(schemas(Problem, posts::PostStatus, users::SortField, users::SortOrder, crate::models::Category)),
    modifiers(&Conventions),
    tags(
        (name = "posts"), (name = "comments"), (name = "likes"), (name = "tags"), (name = "users"),
        (name = "auth"), (name = "tokens"), (name = "uploads"), (name = "batch"), (name = "meta"),
        (name = "events"), (name = "reports"), (name = "webhooks"),
    )
)]
pub struct ApiDoc;

/// What every operation shares: the security schemes, and the error answers any request
/// can get (bad input, bad credentials, rate limit, server fault, timeout).
struct Conventions;

fn problem_response(description: &str) -> RefOr<openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(RefOr::Ref(openapi::Ref::from_schema_name("Problem")))).build(),
        )
        .build()
        .into()
}

impl Modify for Conventions {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("opaque").build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::middleware::page_cache::SESSION_COOKIE))),
        );
        // v2 is v1 with another post-list envelope: document every v1 operation under /api/v2
        // too, with v2's own list.
        let v1: Vec<(String, openapi::PathItem)> = doc
            .paths
            .paths
            .iter()
            .filter_map(|(p, item)| p.strip_prefix("/api/v1/").map(|rest| (format!("/api/v2/{rest}"), item.clone())))
            .collect();
        for (path, mut item) in v1 {
            if let Some(v2) = doc.paths.paths.get(&path) {
                item.get = v2.get.clone().or(item.get);
            }
            doc.paths.paths.insert(path, item);
        }
        let common = [
            ("400", "Malformed request: bad JSON, unknown fields, bad query values, unknown API version"),
            ("401", "Missing or invalid credentials"),
            ("405", "Method not allowed here (see Allow)"),
            ("429", "Rate limited (see Retry-After)"),
            ("500", "Server fault (details only in the log, by request id)"),
            ("504", "The request took too long"),
        ];
        for (path, item) in doc.paths.paths.iter_mut() {
            let name: String = path
                .trim_start_matches("/api/")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
                .split('_')
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("_");
            for (method, op) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ]
            .into_iter()
            .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
            {
                // Unique operation ids (handlers in different modules share names like `list`).
                op.operation_id = Some(format!("{method}_{name}"));
                let has_body = op.request_body.is_some();
                // Every error is a problem document: re-label error bodies the annotations
                // declared as plain JSON.
                for (code, response) in op.responses.responses.iter_mut() {
                    if !code.starts_with('4') && !code.starts_with('5') {
                        continue;
                    }
                    if let RefOr::T(r) = response {
                        if let Some(content) = r.content.shift_remove("application/json") {
                            r.content.insert("application/problem+json".to_string(), content);
                        }
                    }
                }
                for (code, description) in common {
                    op.responses.responses.entry(code.to_string()).or_insert_with(|| problem_response(description));
                }
                if has_body {
                    op.responses
                        .responses
                        .entry("413".into())
                        .or_insert_with(|| problem_response("The body is too large"));
                    op.responses
                        .responses
                        .entry("415".into())
                        .or_insert_with(|| problem_response("Wrong or missing Content-Type"));
                }
            }
        }
    }
}

static DOCUMENT: OnceLock<String> = OnceLock::new();

/// The OpenAPI document as JSON (built once).
pub fn document_json() -> &'static str {
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document_json()).into_response()
}

const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'";

/// `/api/docs`: Swagger UI over the document; its assets come from Quire (see `scripts/setup`).
pub async fn docs_page() -> Response {
    const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quire API documentation</title>
<link rel="stylesheet" href="/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"><p style="font-family:sans-serif;padding:1rem">Loading the API document… (the document itself is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>)</p></div>
<script src="/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>"#;
    let mut res = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response();
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    res
}

/// The page's own script (inline scripts are not allowed by its CSP).
pub async fn docs_init() -> Response {
    const JS: &str = "window.addEventListener('load', function () {\n  window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n});\n";
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], JS)
        .into_response()
}
