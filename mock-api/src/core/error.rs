//! The one error type of the HTTP layer and its JSON body `{"error": ..., "code": ...}`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

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
    #[error("no route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("internal server error")]
    Internal,
    #[error("{0}")]
    InvalidNamespace(String),
    #[error("Prefer: {0}")]
    InvalidPrefer(String),
    #[error(
        "too many namespaces (at most {}); reset all to free them",
        crate::core::limits::MAX_NAMESPACES
    )]
    NamespaceLimit,
    #[error(
        "the namespaces' data would hold more than {0} bytes together; reset a namespace, or all, to free some"
    )]
    NamespaceBudget(usize),
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
    #[serde(skip_serializing_if = "Option::is_none")]
    nearest_stub: Option<NearestStub<'a>>,
}

/// The stub that came nearest to a request nothing answered, and why it did not match: in
/// the 404 of the miss, so the test that made it sees the reason at once.
#[derive(Debug, Serialize)]
pub struct NearestStub<'a> {
    pub id: uuid::Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    pub reasons: &'a [String],
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
            AppError::Conflict { .. } | AppError::NamespaceLimit | AppError::NamespaceBudget(_) => {
                StatusCode::CONFLICT
            }
            AppError::AdminUnauthorized => StatusCode::UNAUTHORIZED,
            AppError::AdminForbidden | AppError::AdminCrossSite(_) => StatusCode::FORBIDDEN,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
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
            AppError::RouteNotFound { .. } => "not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::Internal => "internal_error",
            AppError::InvalidNamespace(_) => "invalid_namespace",
            AppError::InvalidPrefer(_) => "invalid_prefer",
            AppError::NamespaceLimit => "namespace_limit",
            AppError::NamespaceBudget(_) => "namespace_budget",
            AppError::NotFound { code, .. } | AppError::Conflict { code, .. } => code,
            AppError::AdminUnauthorized => "admin_unauthorized",
            AppError::AdminForbidden | AppError::AdminCrossSite(_) => "admin_forbidden",
            AppError::UriTooLong(_) => "uri_too_long",
            AppError::HeadersTooLarge { .. } => "headers_too_large",
            AppError::RequestTimeout => "request_timeout",
        }
    }
}

impl AppError {
    /// The JSON error body alone, for an answer written below the router (see
    /// `core::peer`).
    pub fn json_body(&self) -> Vec<u8> {
        let message = self.to_string();
        serde_json::to_vec(&ErrorBody {
            error: &message,
            code: self.code(),
            nearest_stub: None,
        })
        .unwrap_or_default()
    }
}

/// The JSON error body `{"error": message, "code": code}` with its status, and for a 401
/// the scheme it expects (RFC 6750: a bearer-protected resource names it).
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    challenge: Option<&'static str>,
) -> Response {
    let body = ErrorBody {
        error: message,
        code,
        nearest_stub: None,
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(challenge) = challenge {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    response
}

/// The 404 of a request no route and no stub answered, naming the stub that came nearest.
pub fn miss_response(method: &str, path: &str, nearest: NearestStub<'_>) -> Response {
    let error = AppError::RouteNotFound {
        method: method.to_owned(),
        path: path.to_owned(),
    };
    let body = ErrorBody {
        error: &error.to_string(),
        code: error.code(),
        nearest_stub: Some(nearest),
    };
    (error.status(), axum::Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let challenge = match &self {
            AppError::AdminUnauthorized => Some(r#"Bearer realm="mock-api-admin""#),
            _ => None,
        };
        error_response(self.status(), self.code(), &self.to_string(), challenge)
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
