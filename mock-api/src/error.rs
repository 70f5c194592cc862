//! The one error type of the HTTP layer and its JSON body `{"error": ..., "code": ...}`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("request body is larger than 1 MiB")]
    PayloadTooLarge,
    #[error("user not found")]
    UserNotFound,
    #[error("no route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("email is already taken")]
    EmailTaken,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("missing bearer token (Authorization: Bearer <token>)")]
    MissingToken,
    #[error("invalid, expired or revoked token")]
    InvalidToken,
    #[error("internal server error")]
    Internal,
    #[error("{0}")]
    InvalidNamespace(String),
    #[error("Prefer: {0}")]
    InvalidPrefer(String),
    #[error(
        "too many namespaces (at most {}); reset all to free them",
        crate::limits::MAX_NAMESPACES
    )]
    NamespaceLimit,
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the admin API wants Authorization: Bearer <admin token>")]
    AdminUnauthorized,
    #[error(
        "the admin API answers loopback clients only; start mock-api with --admin-token to reach it from elsewhere"
    )]
    AdminForbidden,
    #[error("the admin API refuses {0}; start mock-api with --admin-token to allow it")]
    AdminCrossSite(&'static str),
    #[error("the request target is longer than {0} bytes")]
    UriTooLong(usize),
    #[error("the request head has more than {headers} headers or {bytes} bytes")]
    HeadersTooLarge { headers: usize, bytes: usize },
    #[error("the request body did not arrive in time")]
    RequestTimeout,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    code: &'a str,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_)
            | AppError::InvalidQuery(_)
            | AppError::MalformedJson(_)
            | AppError::InvalidNamespace(_)
            | AppError::InvalidPrefer(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } | AppError::NamespaceLimit => StatusCode::CONFLICT,
            AppError::AdminUnauthorized => StatusCode::UNAUTHORIZED,
            AppError::AdminForbidden | AppError::AdminCrossSite(_) => StatusCode::FORBIDDEN,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UserNotFound | AppError::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::EmailTaken => StatusCode::CONFLICT,
            AppError::InvalidCredentials | AppError::MissingToken | AppError::InvalidToken => {
                StatusCode::UNAUTHORIZED
            }
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            AppError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The stable, machine-readable code; clients match on it, so it never changes.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_error",
            AppError::InvalidQuery(_) => "invalid_query",
            AppError::MalformedJson(_) => "malformed_json",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UserNotFound => "user_not_found",
            AppError::RouteNotFound { .. } => "not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::EmailTaken => "email_taken",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::MissingToken => "missing_token",
            AppError::InvalidToken => "invalid_token",
            AppError::Internal => "internal_error",
            AppError::InvalidNamespace(_) => "invalid_namespace",
            AppError::InvalidPrefer(_) => "invalid_prefer",
            AppError::NamespaceLimit => "namespace_limit",
            AppError::NotFound { code, .. } | AppError::Conflict { code, .. } => code,
            AppError::AdminUnauthorized => "admin_unauthorized",
            AppError::AdminForbidden | AppError::AdminCrossSite(_) => "admin_forbidden",
            AppError::UriTooLong(_) => "uri_too_long",
            AppError::HeadersTooLarge { .. } => "headers_too_large",
            AppError::RequestTimeout => "request_timeout",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let body = ErrorBody {
            error: &message,
            code: self.code(),
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        // RFC 6750: a 401 on a bearer-protected resource names the scheme it expects.
        let challenge = match &self {
            AppError::MissingToken => Some(r#"Bearer realm="mock-api""#),
            AppError::InvalidToken => Some(r#"Bearer realm="mock-api", error="invalid_token""#),
            AppError::AdminUnauthorized => Some(r#"Bearer realm="mock-api-admin""#),
            _ => None,
        };
        if let Some(challenge) = challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UserNotFound => AppError::UserNotFound,
            StoreError::EmailTaken => AppError::EmailTaken,
            StoreError::InvalidCredentials => AppError::InvalidCredentials,
            StoreError::InvalidToken => AppError::InvalidToken,
            StoreError::Hash => AppError::Internal,
            StoreError::SnapshotNotFound(_) => AppError::NotFound {
                code: "snapshot_not_found",
                message: error.to_string(),
            },
            StoreError::TooManySnapshots => AppError::Conflict {
                code: "snapshot_limit",
                message: error.to_string(),
            },
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
            JsonRejection::JsonSyntaxError(e) => AppError::MalformedJson(e.body_text()),
            JsonRejection::JsonDataError(e) => AppError::MalformedJson(e.body_text()),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            other => AppError::MalformedJson(other.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::InvalidQuery(rejection.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::Validation(rejection.body_text())
    }
}
