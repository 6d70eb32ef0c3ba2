//! `POST /api/v1/auth/register` and `POST /api/v1/auth/token`.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
};
use serde::Deserialize;

use super::extract::Json;
use crate::{
    error::{Error, Result},
    models::{
        validation::{Credentials, NewAccount},
        Role,
    },
    services::{accounts, tokens},
    state::AppState,
};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
}

/// Creates an account → 201 with the user and its `Location`.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterBody,
    responses(
        (status = 201, description = "Created", body = crate::models::User, headers(("Location" = String))),
        (status = 409, description = "Same Idempotency-Key still running", body = crate::middleware::problem::Problem),
        (status = 422, description = "Invalid fields or e-mail taken", body = crate::middleware::problem::Problem)))]
pub async fn register(State(state): State<AppState>, Json(body): Json<RegisterBody>) -> Result<impl IntoResponse> {
    let account = NewAccount::parse(&body.email, &body.name, &body.password).map_err(Error::validation)?;
    let user = accounts::register(&state.db, account, Role::User).await?;
    let location = format!("/api/v1/users/{}", user.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(user)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    #[schema(min_length = 1)]
    pub email: String,
    #[schema(min_length = 1)]
    pub password: String,
}

/// Exchanges e-mail and password for a bearer token → 201 `{token, token_type, expires_at}`.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenBody,
    responses(
        (status = 201, description = "Issued", body = crate::services::tokens::IssuedToken),
        (status = 409, description = "Same Idempotency-Key still running", body = crate::middleware::problem::Problem),
        (status = 422, description = "Missing fields", body = crate::middleware::problem::Problem)))]
pub async fn token(State(state): State<AppState>, Json(body): Json<TokenBody>) -> Result<impl IntoResponse> {
    let creds = Credentials::parse(&body.email, &body.password).map_err(Error::validation)?;
    let user = accounts::authenticate(&state.db, creds).await?;
    let issued = tokens::issue_login_token(&state.db, user.id, state.config.token_ttl).await?;
    Ok((StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], axum::Json(issued)))
}
