//! A login once per goose user, as the checker's `--auth-login` does: a JSON body posted, the
//! token read at a JSON pointer of the answer and sent in a header made from a template.

use goose::prelude::*;
use serde_json::Value;

use crate::credentials::Credentials;
use crate::send::{Request, send};

pub use openapi::login::Login;

/// Why a login cannot be set up: the option, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("--auth-login: {0}")]
    Login(#[source] openapi::login::LoginError),
    #[error("--auth-body is not JSON: {0}")]
    Body(#[source] serde_json::Error),
    #[error("--auth-header: {0}")]
    Header(#[source] openapi::login::LoginError),
}

/// The login the options describe (`--auth-login`, `--auth-body`, `--auth-token`,
/// `--auth-header`).
pub fn parse(
    operation: &str,
    body: Option<&str>,
    token: Option<&str>,
    header: Option<&str>,
) -> Result<Login, LoginError> {
    let body = match body {
        Some(body) => serde_json::from_str(body).map_err(LoginError::Body)?,
        None => Value::Null,
    };
    Login::parse(
        operation,
        body,
        token.unwrap_or(openapi::login::DEFAULT_TOKEN),
    )
    .map_err(LoginError::Login)?
    .with_header(header.unwrap_or(openapi::login::DEFAULT_HEADER))
    .map_err(LoginError::Header)
}

/// Logs the user in; the header to send, or `None` when the login failed (a failure in the
/// metrics already).
pub async fn log_in(
    login: &Login,
    user: &mut GooseUser,
    credentials: &Credentials,
) -> Result<Option<(String, String)>, Box<TransactionError>> {
    let answer = send(
        user,
        Request {
            method: &login.method,
            path: &login.path,
            name: &login.path,
            headers: Vec::new(),
            content_type: Some("application/json".to_owned()),
            body: Some(serde_json::to_vec(&login.body).unwrap_or_default()),
            expect: &[],
            read: true,
            credentials,
        },
    )
    .await?;
    let token = answer
        .and_then(|(_, body)| body)
        .and_then(|body| login.token_in(&body));
    Ok(token.and_then(|token| login.header_for(&token)))
}
