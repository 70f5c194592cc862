//! Credentials for protected operations: a declarative login (`POST /login` with a JSON body,
//! the token at a JSON pointer of the answer), its token sent as `Authorization: Bearer`,
//! and a fresh login when the target stops accepting it (a logout revokes it, say).

use std::sync::{Mutex, PoisonError};

use reqwest::Method;
use serde_json::Value;

use crate::transport::read_body;

/// The most bytes of a login answer read.
const MAX_LOGIN_ANSWER: usize = 1 << 20;

/// How to log in.
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    pub method: Method,
    pub path: String,
    pub body: Value,
    /// Where the token is in the JSON answer, e.g. `/token`.
    pub token_pointer: String,
}

impl Login {
    /// Parses `'POST /api/auth/login'`.
    pub fn parse(operation: &str, body: Value, token_pointer: &str) -> Result<Login, String> {
        let (method, path) = operation
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("a login is 'METHOD /path', not {operation:?}"))?;
        let method =
            Method::from_bytes(method.to_uppercase().as_bytes()).map_err(|e| e.to_string())?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(format!("the login path must start with '/': {path:?}"));
        }
        if !token_pointer.is_empty() && !token_pointer.starts_with('/') {
            return Err(format!(
                "the token pointer must be a JSON pointer like /token, not {token_pointer:?}"
            ));
        }
        Ok(Login {
            method,
            path: path.to_owned(),
            body,
            token_pointer: token_pointer.to_owned(),
        })
    }
}

/// The current token, shared by every worker; and a second identity, if one is configured,
/// for `object_level_authorization`.
#[derive(Debug, Default)]
pub struct Auth {
    login: Option<Login>,
    token: Mutex<Option<String>>,
    second: Option<Box<Auth>>,
}

impl Auth {
    pub fn new(login: Option<Login>) -> Auth {
        Auth {
            login,
            token: Mutex::new(None),
            second: None,
        }
    }

    /// The same, with a second identity that logs in with `login`.
    pub fn with_second(self, login: Login) -> Auth {
        Auth {
            second: Some(Box::new(Auth::new(Some(login)))),
            ..self
        }
    }

    /// The second identity.
    pub fn second(&self) -> Option<&Auth> {
        self.second.as_deref()
    }

    pub fn can_log_in(&self) -> bool {
        self.login.is_some()
    }

    /// The `Authorization` header value, when logged in.
    pub fn header(&self) -> Option<String> {
        self.token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|t| format!("Bearer {t}"))
    }

    /// Logs in every identity.
    pub async fn log_in_all(&self, client: &reqwest::Client, target: &str) -> Result<(), String> {
        self.log_in(client, target).await?;
        if let Some(second) = &self.second {
            second
                .log_in(client, target)
                .await
                .map_err(|e| format!("the second identity: {e}"))?;
            if second.header().is_some() && second.header() == self.header() {
                return Err(
                    "both identities got the same token: the second login must be another user"
                        .to_owned(),
                );
            }
        }
        Ok(())
    }

    /// Logs in (again) and keeps the new token; the answer is read up to 1 MiB.
    pub async fn log_in(&self, client: &reqwest::Client, target: &str) -> Result<(), String> {
        let Some(login) = &self.login else {
            return Ok(());
        };
        let url = format!("{}{}", target.trim_end_matches('/'), login.path);
        let response = client
            .request(login.method.clone(), &url)
            .json(&login.body)
            .send()
            .await
            .map_err(|e| format!("login at {} {url} failed: {e}", login.method))?;
        let status = response.status();
        let text = read_body(response, MAX_LOGIN_ANSWER, &[])
            .await
            .map(|body| String::from_utf8_lossy(&body).into_owned())
            .map_err(|e| format!("login at {} {url}: {e}", login.method))?;
        if !status.is_success() {
            let excerpt: String = text.chars().take(200).collect();
            return Err(format!(
                "login at {} {url} answered {status}: {excerpt}",
                login.method
            ));
        }
        let body: Value = serde_json::from_str(&text)
            .map_err(|_| format!("login at {url} did not answer JSON"))?;
        let token = body
            .pointer(&login.token_pointer)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                format!(
                    "no string token at {} of the login answer",
                    login.token_pointer
                )
            })?;
        // A token that cannot go in a header is said now, not blamed on every case after.
        if reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            return Err(format!(
                "the token at {} of the login answer cannot be sent in a header",
                login.token_pointer
            ));
        }
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = Some(token.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_declarative_logins() {
        let login = Login::parse(
            "post /api/auth/login",
            serde_json::json!({"a": 1}),
            "/token",
        )
        .unwrap();
        assert_eq!(
            (login.method, login.path.as_str()),
            (Method::POST, "/api/auth/login")
        );
        assert!(
            Login::parse("/api/auth/login", Value::Null, "/token")
                .unwrap_err()
                .contains("'METHOD /path'")
        );
        assert!(
            Login::parse("POST api/login", Value::Null, "/token")
                .unwrap_err()
                .contains("start with '/'")
        );
        assert!(
            Login::parse("POST /login", Value::Null, "token")
                .unwrap_err()
                .contains("JSON pointer")
        );
    }
}
