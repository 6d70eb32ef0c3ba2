//! `/api/v1/tokens`: personal access tokens, managed from a signed-in session.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Id, Json};
use crate::{
    error::{Error, Result},
    middleware::auth::SessionCaller,
    middleware::problem::Problem,
    models::{ApiToken, CreatedToken, NewTokenRequest},
    services::tokens,
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub data: Vec<ApiToken>,
}

/// Your live tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses(
        (status = 200, description = "Your tokens", body = TokenList),
        (status = 403, description = "Called with a token instead of a session", body = Problem)),
    security(("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    SessionCaller(caller): SessionCaller,
) -> Result<axum::Json<TokenList>> {
    Ok(axum::Json(TokenList { data: tokens::list(&state.db, &caller.user).await? }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// 1–100 characters, to recognise it later.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `read` and/or `write` (`write` implies `read`).
    #[schema(min_items = 1, max_items = 2)]
    pub scopes: Vec<String>,
    /// 1–1825 days; absent: never expires.
    #[schema(minimum = 1, maximum = 1825)]
    pub expires_in_days: Option<i64>,
}

/// Create a token. The response is the only time its secret is shown.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewTokenBody,
    responses(
        (status = 201, description = "Created; `token` is the secret", body = CreatedToken),
        (status = 403, description = "Called with a token instead of a session", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem)),
    security(("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    SessionCaller(caller): SessionCaller,
    Json(b): Json<NewTokenBody>,
) -> Result<(StatusCode, [(axum::http::HeaderName, &'static str); 1], axum::Json<CreatedToken>)> {
    let scopes: Vec<&str> = b.scopes.iter().map(String::as_str).collect();
    let req = NewTokenRequest::parse(&b.name, &scopes, b.expires_in_days).map_err(Error::validation)?;
    let created = tokens::create_personal(&state.db, &caller.user, req).await?;
    Ok((StatusCode::CREATED, [(axum::http::header::CACHE_CONTROL, "no-store")], axum::Json(created)))
}

/// Revoke a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Called with a token instead of a session", body = Problem),
        (status = 404, description = "No such token of yours", body = Problem)),
    security(("session" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    SessionCaller(caller): SessionCaller,
    Id(id): Id,
) -> Result<StatusCode> {
    tokens::revoke(&state.db, &caller.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
