//! The users demo's own errors, beside the toolkit's, with the same JSON body.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::core::error::{AppError, error_response};
use crate::engines::users::store::StoreError;

/// Everything a handler of the demo can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("user not found")]
    UserNotFound,
    #[error("email is already taken")]
    EmailTaken,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("missing bearer token (Authorization: Bearer <token>)")]
    MissingToken,
    #[error("invalid, expired or revoked token")]
    InvalidToken,
}

impl IntoResponse for UsersError {
    fn into_response(self) -> Response {
        let (status, code, challenge) = match &self {
            UsersError::App(_) => {
                let UsersError::App(error) = self else {
                    unreachable!()
                };
                return error.into_response();
            }
            UsersError::UserNotFound => (StatusCode::NOT_FOUND, "user_not_found", None),
            UsersError::EmailTaken => (StatusCode::CONFLICT, "email_taken", None),
            UsersError::InvalidCredentials => {
                (StatusCode::UNAUTHORIZED, "invalid_credentials", None)
            }
            UsersError::MissingToken => (
                StatusCode::UNAUTHORIZED,
                "missing_token",
                Some(r#"Bearer realm="mock-api""#),
            ),
            UsersError::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                Some(r#"Bearer realm="mock-api", error="invalid_token""#),
            ),
        };
        error_response(status, code, &self.to_string(), challenge)
    }
}

impl From<StoreError> for UsersError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UserNotFound => UsersError::UserNotFound,
            StoreError::EmailTaken => UsersError::EmailTaken,
            StoreError::InvalidCredentials => UsersError::InvalidCredentials,
            StoreError::InvalidToken => UsersError::InvalidToken,
            StoreError::Hash => UsersError::App(AppError::Internal),
            StoreError::Budget(over) => UsersError::App(over.into()),
        }
    }
}

impl From<JsonRejection> for UsersError {
    fn from(rejection: JsonRejection) -> Self {
        UsersError::App(rejection.into())
    }
}

impl From<QueryRejection> for UsersError {
    fn from(rejection: QueryRejection) -> Self {
        UsersError::App(rejection.into())
    }
}

impl From<PathRejection> for UsersError {
    fn from(rejection: PathRejection) -> Self {
        UsersError::App(rejection.into())
    }
}
