//! The API's other surfaces over the same services, on SQLite and PostgreSQL: batches run
//! through the router as the caller, GraphQL, and the OpenAPI document.

use crate::common;

use axum::http::{Method, StatusCode};
use common::{user_with_token, TestApp};
use serde_json::{json, Value};

async fn batches_run_through_the_router_as_the_caller(app: TestApp) {
    let (_, token) = user_with_token(&app, "batch@example.com").await;
    let mut c = app.client();
    let ops = json!({"operations": [
        {"method": "POST", "path": "/api/v1/posts", "body": {"title": "From a batch", "body": "b", "category": "tech", "published": true}},
        {"method": "GET", "path": "/api/v1/me"},
        {"method": "GET", "path": "/api/v1/posts/999999"},
        {"method": "PUT", "path": "/api/v1/posts/999999", "body": {"title": "x", "body": "y", "category": "tech"}},
        {"method": "GET", "path": "/api/posts?limit=1", "headers": {"Accept-Version": "1"}}
    ]});
    let res = c.api(Method::POST, "/api/v1/batch", Some(&token), Some(ops), &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let results = res.json()["results"].as_array().unwrap().clone();
    let statuses: Vec<u64> = results.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [201, 200, 404, 428, 200]);
    assert_eq!(results[0]["body"]["title"], "From a batch");
    assert_eq!(results[1]["body"]["email"], "batch@example.com");
    assert_eq!(results[2]["body"]["code"], "NOT_FOUND");
    assert_eq!(results[4]["body"]["data"][0]["title"], "From a batch");

    let many: Vec<Value> = (0..11).map(|_| json!({"method": "GET", "path": "/api/v1/me"})).collect();
    c.api(Method::POST, "/api/v1/batch", Some(&token), Some(json!({"operations": many})), &[])
        .await
        .problem(400, "BAD_REQUEST");
    c.api(Method::POST, "/api/v1/batch", Some(&token), Some(json!({"operations": []})), &[])
        .await
        .problem(400, "BAD_REQUEST");
    let nested = json!({"operations": [{"method": "POST", "path": "/api/v1/batch", "body": {"operations": []}}]});
    let refused = c.api(Method::POST, "/api/v1/batch", Some(&token), Some(nested), &[]).await;
    assert_eq!(refused.problem(400, "BAD_REQUEST")["errors"][0]["field"], "operations[0].path");
    let sneaky = json!({"operations": [{"method": "POST", "path": "/api/batch", "body": {"operations": []}}]});
    c.api(Method::POST, "/api/v1/batch", Some(&token), Some(sneaky), &[]).await.problem(400, "BAD_REQUEST");
    let anon =
        app.client().post_json("/api/v1/batch", json!({"operations": [{"method": "GET", "path": "/api/v1/me"}]})).await;
    anon.problem(401, "UNAUTHORIZED");
}

async fn graphql_answers_from_the_same_services(app: TestApp) {
    let (_, token) = user_with_token(&app, "gql@example.com").await;
    let mut c = app.client();
    let gql = |query: &str| json!({ "query": query });
    let created = c
        .api(Method::POST, "/api/graphql", Some(&token), Some(gql(r#"mutation { createPost(input: {title: "Graph", body: "Body", category: TECH, tags: ["g"], published: true}) { id title tags published } }"#)), &[])
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let post = created.json()["data"]["createPost"].clone();
    assert_eq!(post["title"], "Graph");
    let id = post["id"].as_i64().unwrap();

    let comment = c
        .api(
            Method::POST,
            "/api/graphql",
            Some(&token),
            Some(gql(&format!(r#"mutation {{ createComment(postId: {id}, body: "Nice") {{ id body authorName }} }}"#))),
            &[],
        )
        .await
        .json();
    assert_eq!(comment["data"]["createComment"]["body"], "Nice");

    let read = app
        .client()
        .post_json("/api/graphql", gql(&format!(r#"{{ posts(first: 5, tags: ["g"]) {{ items {{ title }} hasMore }} post(id: {id}) {{ slug }} comments(postId: {id}) {{ items {{ body }} hasMore }} }}"#)))
        .await
        .json();
    assert_eq!(read["data"]["posts"]["items"][0]["title"], "Graph");
    assert_eq!(read["data"]["post"]["slug"], "graph");
    assert_eq!(read["data"]["comments"]["items"][0]["body"], "Nice");
    assert_eq!(read["data"]["comments"]["hasMore"], false);

    // Auth as REST: anonymous `me` fails, a non-admin cannot list users, anonymous cannot write.
    let me = app.client().post_json("/api/graphql", gql("{ me { email } }")).await.json();
    assert_eq!(me["errors"][0]["extensions"]["code"], "UNAUTHORIZED");
    let users = c.api(Method::POST, "/api/graphql", Some(&token), Some(gql("{ users { total } }")), &[]).await.json();
    assert_eq!(users["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let anon_write = app
        .client()
        .post_json("/api/graphql", gql(r#"mutation { createComment(postId: 1, body: "x") { id } }"#))
        .await
        .json();
    assert_eq!(anon_write["errors"][0]["extensions"]["code"], "UNAUTHORIZED");
    let invalid = c
        .api(
            Method::POST,
            "/api/graphql",
            Some(&token),
            Some(gql(r#"mutation { createPost(input: {title: "", body: "b", category: TECH}) { id } }"#)),
            &[],
        )
        .await
        .json();
    assert_eq!(invalid["errors"][0]["extensions"]["code"], "VALIDATION_ERROR");

    // Limits: a query too deep or too costly is refused before it runs.
    let deep =
        "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } }";
    let res = app.client().post_json("/api/graphql", gql(deep)).await.json();
    assert!(res["errors"][0]["message"].as_str().unwrap().to_lowercase().contains("deep"), "{res}");
    let costly = "{ a: posts(first: 100) { items { id title body slug } } b: posts(first: 100) { items { id title body slug } } c: posts(first: 100) { items { id title body } } }";
    let res = app.client().post_json("/api/graphql", gql(costly)).await.json();
    assert!(res["errors"][0]["message"].as_str().unwrap().to_lowercase().contains("complex"), "{res}");

    // Queries over GET, too.
    let get = app.client().get("/api/graphql?query=%7B%20posts%20%7B%20items%20%7B%20title%20%7D%20%7D%20%7D").await;
    assert_eq!(get.status, StatusCode::OK, "{}", get.text());
    assert_eq!(get.json()["data"]["posts"]["items"][0]["title"], "Graph");
}

async fn the_openapi_document_covers_every_endpoint(app: TestApp) {
    let res = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(res.status, StatusCode::OK);
    let doc = res.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/health", &["get"][..]),
        ("/api/v1/auth/register", &["post"]),
        ("/api/v1/auth/token", &["post"]),
        ("/api/v1/me", &["get"]),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/users/{id}", &["get", "patch", "delete"]),
        ("/api/v1/posts", &["get", "post"]),
        ("/api/v1/posts/{id}", &["get", "put", "patch", "delete"]),
        ("/api/v1/posts/{id}/comments", &["get", "post"]),
        ("/api/v1/posts/{id}/like", &["put", "delete"]),
        ("/api/v1/comments/{id}", &["delete"]),
        ("/api/v1/tags", &["get"]),
        ("/api/v1/tokens", &["get", "post"]),
        ("/api/v1/tokens/{id}", &["delete"]),
        ("/api/v1/uploads", &["post"]),
        ("/api/v1/batch", &["post"]),
        ("/api/v2/posts", &["get"]),
    ] {
        for m in methods {
            let op = &paths[path][*m];
            assert!(op.is_object(), "{m} {path} is documented");
            assert!(op["responses"]["429"].is_object(), "{m} {path} documents 429");
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let mut ids = std::collections::HashSet::new();
    for item in paths.values() {
        for op in item.as_object().unwrap().values() {
            assert!(ids.insert(op["operationId"].as_str().unwrap().to_string()), "operation ids are unique");
        }
    }
    assert_eq!(
        paths["/api/v2/posts"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/PostPageV2"
    );
    assert!(paths["/api/v2/posts/{id}"]["patch"].is_object(), "v2 documents everything v1 has");
    assert!(paths["/api/v1/posts/{id}"]["get"]["responses"]["404"]["content"]["application/problem+json"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let page = app.client().get("/api/docs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text().contains("/vendor/swagger-ui/swagger-ui-bundle.js"));
}

on_both_databases!(
    batches_run_through_the_router_as_the_caller,
    graphql_answers_from_the_same_services,
    the_openapi_document_covers_every_endpoint,
);

/// Named values are documented by the names the API sends (`"tech"`, `"admin"`), not by their
/// Rust names.
#[tokio::test]
async fn the_openapi_document_names_enum_values_as_they_are_sent() {
    let app = TestApp::sqlite().await;
    let doc = app.client().get("/api/v1/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    for (name, values) in [
        ("Category", vec!["tech", "lifestyle", "business"]),
        ("Role", vec!["user", "admin"]),
        ("Plan", vec!["free", "pro"]),
    ] {
        let listed: Vec<&str> = schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {}", schemas[name]))
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(listed, values, "{name}");
    }
}
