//! `/api/v1/users…`: the admin's user list and account creation; each user's own
//! account (read, change, delete) for themselves or an admin.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::Response,
};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

use super::extract::{precondition, versioned_json, Id, IfMatch, Json, Query};
use crate::{
    db::users::UserSort,
    error::{Error, Result},
    middleware::auth::{Caller, Writer},
    middleware::problem::Problem,
    models::{
        list::{in_range, page_size, PAGE_DEFAULT},
        validation::{NewAccount, ProfileChange},
        Plan, Role, User,
    },
    services::users::{self, UserPage, UserQuery},
    state::AppState,
};

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    CreatedAt,
    Name,
    Email,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    #[serde(default, deserialize_with = "super::extract::present")]
    pub page: Option<i64>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "super::extract::present")]
    pub limit: Option<i64>,
    /// Matches names and e-mails, any case.
    pub search: Option<String>,
    /// Default `created_at`.
    #[serde(default, deserialize_with = "super::extract::present")]
    pub sort: Option<SortField>,
    /// Default `desc` for `created_at`, else `asc`.
    #[serde(default, deserialize_with = "super::extract::present")]
    pub order: Option<SortOrder>,
}

/// List users (admin): offset pages, search, sort.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserListQuery),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 403, description = "Not an admin", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<UserListQuery>,
) -> Result<axum::Json<UserPage>> {
    let page = in_range("page", q.page.unwrap_or(1), 1, 1_000_000)?;
    let limit = page_size("limit", q.limit, PAGE_DEFAULT)?;
    let sort = match q.sort.unwrap_or(SortField::CreatedAt) {
        SortField::CreatedAt => UserSort::CreatedAt,
        SortField::Name => UserSort::Name,
        SortField::Email => UserSort::Email,
    };
    let descending = match q.order {
        Some(SortOrder::Desc) => true,
        Some(SortOrder::Asc) => false,
        None => sort == UserSort::CreatedAt,
    };
    let search = q.search.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(Error::bad_request("`search` may be at most 200 characters."));
    }
    let query = UserQuery { page, limit, search, sort, descending };
    Ok(axum::Json(users::list(&state.db, &caller.user, &query).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 8–128 characters.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub plan: Option<Plan>,
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String))),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 409, description = "Same Idempotency-Key still running", body = Problem),
        (status = 422, description = "Invalid fields or e-mail taken", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Json(b): Json<NewUserBody>,
) -> Result<Response> {
    if !caller.user.is_admin() {
        return Err(Error::forbidden("Only administrators may create accounts here; use /api/v1/auth/register."));
    }
    let account = NewAccount::parse(&b.email, &b.name, &b.password).map_err(Error::validation)?;
    let user = users::create(&state.db, &caller.user, account, b.role.unwrap_or_default(), b.plan).await?;
    let location = format!("/api/v1/users/{}", user.id);
    Ok(versioned_json(StatusCode::CREATED, user.version, user, Some(location)))
}

/// Get a user (themselves or an admin).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "The user", body = User, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 403, description = "Someone else's account", body = Problem),
        (status = 404, description = "No such user", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn show(State(state): State<AppState>, caller: Caller, Id(id): Id) -> Result<Response> {
    Ok(versioned(StatusCode::OK, users::get(&state.db, &caller.user, id).await?))
}

/// `null` (clear) vs absent (leave) for nullable fields.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUserBody {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// An http(s) URL; `null` or "" clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    /// `owner/name`; `null` or "" clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub github_repo: Option<Option<String>>,
    /// Admins only.
    pub role: Option<Role>,
    /// Admins only.
    pub plan: Option<Plan>,
}

/// Change a user (themselves or an admin; `role` and `plan` admins only). `If-Match` is optional.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = PatchUserBody,
    params(("id" = i64, Path, minimum = 1), ("If-Match" = Option<String>, Header, description = "Makes the change conditional"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses(
        (status = 200, description = "Saved", body = User, headers(("ETag" = String))),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 404, description = "No such user", body = Problem),
        (status = 409, description = "Same Idempotency-Key still running, or the last administrator's role", body = Problem),
        (status = 412, description = "Stale If-Match", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Id(id): Id,
    // The body's problems are reported before the precondition's.
    if_match: Result<Option<IfMatchOpt>, Error>,
    Json(b): Json<PatchUserBody>,
) -> Result<Response> {
    fn clearable(v: &Option<Option<String>>) -> Option<&str> {
        v.as_ref().map(|v| v.as_deref().unwrap_or(""))
    }
    let change = ProfileChange::parse(b.name.as_deref(), clearable(&b.avatar_url), clearable(&b.github_repo))
        .map_err(Error::validation)?
        .with_role(b.role)
        .with_plan(b.plan);
    let expected = if_match?.and_then(|m| m.0);
    let user = users::update(&state.db, &caller.user, id, expected, change).await.map_err(precondition)?;
    Ok(versioned(StatusCode::OK, user))
}

/// An optional `If-Match` (present: must parse).
pub struct IfMatchOpt(pub Option<i64>);

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for IfMatchOpt {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Option<Self>> {
        if !parts.headers.contains_key(header::IF_MATCH) {
            return Ok(None);
        }
        let IfMatch(v) = <IfMatch as axum::extract::FromRequestParts<S>>::from_request_parts(parts, state).await?;
        Ok(Some(IfMatchOpt(v)))
    }
}

/// Delete a user and everything they own, files included (themselves or an admin).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed", body = Problem),
        (status = 404, description = "No such user", body = Problem),
        (status = 409, description = "The last administrator cannot be deleted", body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn delete(State(state): State<AppState>, Writer(caller): Writer, Id(id): Id) -> Result<StatusCode> {
    let dirs = users::FileDirs { uploads: &state.config.upload_dir, reports: &state.config.report_dir };
    users::delete(&state.db, &dirs, &caller.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn versioned(status: StatusCode, user: User) -> Response {
    versioned_json(status, user.version, user, None)
}
