//! A login once per goose user, as the checker's `--auth-login` does: a JSON body posted, the
//! token read at a JSON pointer of the answer and sent in a header made from a template.

use goose::prelude::*;
use serde_json::Value;

use crate::credentials::Credentials;
use crate::send::{Request, send};

/// How a user logs in.
#[derive(Debug, Clone)]
pub struct Login {
    pub method: reqwest::Method,
    pub path: String,
    pub body: Value,
    /// Where the token is in the answer (`/token`).
    pub token: String,
    /// The header that carries it: name, and value with `{token}` in it.
    pub header: (String, String),
}

/// Why a login cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("--auth-login is 'METHOD /path', not {0:?}")]
    Operation(String),
    #[error("--auth-body is not JSON: {0}")]
    Body(String),
    #[error("--auth-header is 'Name: value with {{token}}', not {0:?}")]
    Header(String),
}

impl Login {
    pub fn parse(
        operation: &str,
        body: Option<&str>,
        token: Option<&str>,
        header: Option<&str>,
    ) -> Result<Login, LoginError> {
        let (method, path) = operation
            .trim()
            .split_once(' ')
            .filter(|(_, path)| path.trim().starts_with('/'))
            .ok_or_else(|| LoginError::Operation(operation.to_owned()))?;
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| LoginError::Operation(operation.to_owned()))?;
        let body = match body {
            Some(body) => {
                serde_json::from_str(body).map_err(|e| LoginError::Body(e.to_string()))?
            }
            None => Value::Null,
        };
        let template = header.unwrap_or("Authorization: Bearer {token}");
        let header = template
            .split_once(':')
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .filter(|(name, value)| {
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
                    && value.contains("{token}")
            })
            .ok_or_else(|| LoginError::Header(template.to_owned()))?;
        Ok(Login {
            method,
            path: path.trim().to_owned(),
            body,
            token: token.unwrap_or("/token").to_owned(),
            header,
        })
    }

    /// Whether `operation` is this login's.
    pub fn is(&self, operation: &openapi::model::Operation) -> bool {
        operation.method == self.method && operation.path == self.path
    }

    /// Logs the user in; the header to send, or `None` when the login failed (a failure in
    /// the metrics already).
    pub async fn log_in(
        &self,
        user: &mut GooseUser,
        credentials: &Credentials,
    ) -> Result<Option<(String, String)>, Box<TransactionError>> {
        let answer = send(
            user,
            Request {
                method: &self.method,
                path: &self.path,
                name: &self.path,
                headers: Vec::new(),
                content_type: Some("application/json".to_owned()),
                body: Some(serde_json::to_vec(&self.body).unwrap_or_default()),
                expect: &[],
                read: true,
                credentials,
            },
        )
        .await?;
        let token = answer
            .and_then(|(_, body)| body)
            .and_then(|body| body.pointer(&self.token)?.as_str().map(str::to_owned));
        Ok(token.map(|token| {
            (
                self.header.0.clone(),
                self.header.1.replace("{token}", &token),
            )
        }))
    }
}
