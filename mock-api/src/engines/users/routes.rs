//! The HTTP surface: the router, its handlers, and the validation of what clients send.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::engine::Users;
use crate::core::clock::format_timestamp;
use crate::core::engine::Space;
use crate::core::error::AppError;
use crate::core::namespace::namespace_of;
use crate::engines::users::document as spec;
use crate::engines::users::error::UsersError;
use crate::engines::users::store::{NewUser, Role, Session, Store, User, UserPatch};
use crate::engines::users::validate::{Field, check_length};

type AppResult<T> = Result<T, UsersError>;
type JsonBody = Result<Json<Value>, JsonRejection>;

/// The built-in routes of the users demo, with no state attached yet.
pub fn router() -> Router<Arc<Users>> {
    Router::new()
        .route("/health", get(health))
        .route("/api/users", get(list_users).post(create_user))
        .route(
            "/api/users/{id}",
            get(get_user).put(update_user).delete(delete_user),
        )
        .route("/api/auth/login", post(login))
        .route("/api/auth/register", post(register))
        .route("/api/auth/me", get(me))
        .route("/api/auth/logout", post(logout))
        .route("/openapi.json", get(openapi_json))
        .route("/openapi.yaml", get(openapi_yaml))
}

/// The data of the request's namespace (`X-Mock-Namespace`), or the default data.
pub struct Ns(pub Arc<Space<Store>>);

impl FromRequestParts<Arc<Users>> for Ns {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, users: &Arc<Users>) -> Result<Ns, AppError> {
        users.namespaces.get(namespace_of(&parts.headers)?).map(Ns)
    }
}

async fn health(State(users): State<Arc<Users>>) -> Json<Value> {
    let timestamp = format_timestamp(users.clock.now());
    Json(json!({
        "status": "healthy",
        "timestamp": timestamp,
        "service": "mock-api",
        // The version of the contract served, which is what a client can act on.
        "version": spec::json()["info"]["version"],
    }))
}

#[derive(Deserialize)]
struct ListParams {
    page: Option<String>,
    limit: Option<String>,
    search: Option<String>,
}

async fn list_users(
    Ns(store): Ns,
    params: Result<Query<ListParams>, QueryRejection>,
) -> AppResult<Response> {
    let Query(params) = params?;
    let page = query_int("page", params.page.as_deref(), 1, 1_000_000_000)?;
    let limit = query_int("limit", params.limit.as_deref(), 10, 100)?;
    if let Some(search) = &params.search {
        check_length("search", search, 0, 256).map_err(AppError::InvalidQuery)?;
    }
    Ok(json_bytes(
        store.list(page, limit, params.search.as_deref()).to_json(),
    ))
}

async fn create_user(Ns(store): Ns, body: JsonBody) -> AppResult<Response> {
    let body = object(body)?;
    let role = match optional_str(&body, "role")? {
        Some(role) => parse_role(role)?,
        None => Role::User,
    };
    let user = store.create(new_user(&body, role)?)?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

async fn get_user(Ns(store): Ns, id: Result<Path<String>, PathRejection>) -> AppResult<Response> {
    Ok(json_bytes(store.shown(user_id(id)?)?.json().clone()))
}

/// A 200 with a body that is JSON already.
fn json_bytes(body: impl Into<axum::body::Body>) -> Response {
    const JSON: HeaderValue = HeaderValue::from_static("application/json");
    ([(header::CONTENT_TYPE, JSON)], body.into()).into_response()
}

async fn update_user(
    Ns(store): Ns,
    id: Result<Path<String>, PathRejection>,
    body: JsonBody,
) -> AppResult<Json<User>> {
    let id = user_id(id)?;
    let body = object(body)?;
    let patch = UserPatch {
        email: optional_field(&body, "email", Field::Email)?,
        password: optional_field(&body, "password", Field::Password)?,
        name: optional_field(&body, "name", Field::Name)?,
        role: optional_str(&body, "role")?.map(parse_role).transpose()?,
    };
    Ok(Json(store.update(id, patch)?))
}

async fn delete_user(
    Ns(store): Ns,
    id: Result<Path<String>, PathRejection>,
) -> AppResult<StatusCode> {
    store.delete(user_id(id)?)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn login(Ns(store): Ns, body: JsonBody) -> AppResult<Json<Session>> {
    let body = object(body)?;
    let email = required_field(&body, "email", Field::LoginEmail)?;
    let password = required_field(&body, "password", Field::Password)?;
    Ok(Json(store.login(&email, &password)?))
}

async fn register(Ns(store): Ns, body: JsonBody) -> AppResult<Response> {
    let body = object(body)?;
    // Self-registration never grants a role: any `role` sent is ignored.
    let session = store.register(new_user(&body, Role::User)?)?;
    Ok((StatusCode::CREATED, Json(session)).into_response())
}

async fn me(Ns(store): Ns, headers: HeaderMap) -> AppResult<Json<User>> {
    Ok(Json(store.authenticate(bearer_token(&headers)?)?))
}

async fn logout(Ns(store): Ns, headers: HeaderMap) -> AppResult<StatusCode> {
    store.revoke(bearer_token(&headers)?)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn openapi_json() -> Response {
    let content_type = HeaderValue::from_static("application/json");
    ([(header::CONTENT_TYPE, content_type)], spec::json_text()).into_response()
}

async fn openapi_yaml() -> Response {
    let content_type = HeaderValue::from_static("application/yaml");
    ([(header::CONTENT_TYPE, content_type)], spec::YAML).into_response()
}

/// A path segment that is not a UUID names no user, so it is a 404 like an unknown UUID.
fn user_id(id: Result<Path<String>, PathRejection>) -> AppResult<Uuid> {
    let Path(id) = id?;
    Uuid::parse_str(&id).map_err(|_| UsersError::UserNotFound)
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> AppResult<&str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(UsersError::MissingToken)?;
    let value = value.to_str().map_err(|_| UsersError::InvalidToken)?;
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(UsersError::InvalidToken),
    }
}

fn query_int(name: &str, value: Option<&str>, default: u64, max: u64) -> Result<u64, AppError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match value.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(AppError::InvalidQuery(format!(
            "{name} must be an integer from 1 to {max}"
        ))),
    }
}

fn object(body: JsonBody) -> Result<Map<String, Value>, AppError> {
    let Json(value) = body?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(AppError::Validation(
            "request body must be a JSON object".to_owned(),
        )),
    }
}

fn optional_str<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, AppError> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(AppError::Validation(format!("{name} must be a string"))),
    }
}

fn optional_field(
    body: &Map<String, Value>,
    name: &str,
    field: Field,
) -> Result<Option<String>, AppError> {
    let Some(value) = optional_str(body, name)? else {
        return Ok(None);
    };
    field.check(name, value)?;
    Ok(Some(value.to_owned()))
}

fn required_field(body: &Map<String, Value>, name: &str, field: Field) -> Result<String, AppError> {
    optional_field(body, name, field)?
        .ok_or_else(|| AppError::Validation(format!("{name} is required")))
}

fn parse_role(role: &str) -> Result<Role, AppError> {
    Role::parse(role).ok_or_else(|| {
        AppError::Validation(format!("role must be one of: {}", Role::NAMES.join(", ")))
    })
}

fn new_user(body: &Map<String, Value>, role: Role) -> Result<NewUser, AppError> {
    Ok(NewUser {
        email: required_field(body, "email", Field::Email)?,
        password: required_field(body, "password", Field::Password)?,
        name: required_field(body, "name", Field::Name)?,
        role,
    })
}
