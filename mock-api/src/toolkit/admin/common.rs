//! What every admin handler shares: reading a JSON body with clear errors, ids, and the
//! answers for created and missing things.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use uuid::Uuid;

use crate::core::error::AppError;
use crate::toolkit::registry::RegistryError;

pub(super) type JsonBody = Result<Json<Value>, JsonRejection>;

pub(super) type AppResult<T> = Result<T, AppError>;

pub(super) fn object(body: JsonBody) -> AppResult<Value> {
    let Json(value) = body?;
    match value {
        Value::Object(_) => Ok(value),
        _ => Err(AppError::Validation(
            "request body must be a JSON object".to_owned(),
        )),
    }
}

pub(super) fn parse_body<T: serde::de::DeserializeOwned>(body: JsonBody) -> AppResult<T> {
    let value = object(body)?;
    if let Some(field) = null_field(&value, "") {
        return Err(AppError::Validation(format!(
            "{field} must not be null: leave it out instead"
        )));
    }
    serde_json::from_value(value).map_err(|e| AppError::Validation(e.to_string()))
}

/// The first field set to null, outside `body` (whose JSON may hold anything): an optional
/// field is given or left out, never null, so a null is a mistake worth naming.
pub(super) fn null_field(value: &Value, at: &str) -> Option<String> {
    let Value::Object(object) = value else {
        return None;
    };
    object.iter().find_map(|(key, value)| {
        let path = format!("{at}{key}");
        match value {
            Value::Null => Some(path),
            _ if key == "body" => None,
            _ => null_field(value, &format!("{path}.")),
        }
    })
}

/// An id in a path: anything but a UUID names nothing, so it is a 404.
pub(super) fn uuid(id: &str, what: &'static str, code: &'static str) -> AppResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| not_found(what, code, id))
}

/// 201 with where the new thing lives.
pub(super) fn created(location: String, body: Value) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

pub(super) fn not_found(what: &str, code: &'static str, id: &str) -> AppError {
    AppError::NotFound {
        code,
        message: format!("no {what} with id {id}"),
    }
}

/// Why the registry refused a stub or fault rule, as the admin API answers it: a bad
/// definition is a 400, an id taken or a cap reached a 409 with the registry's code.
pub(super) fn refused(error: RegistryError) -> AppError {
    match error {
        RegistryError::Invalid(message) => AppError::Validation(message),
        RegistryError::Exists { kind, .. } => AppError::Conflict {
            code: kind.exists_code,
            message: error.to_string(),
        },
        RegistryError::TooMany { kind } => AppError::Conflict {
            code: kind.limit_code,
            message: error.to_string(),
        },
    }
}
