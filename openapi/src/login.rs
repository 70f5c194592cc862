//! A declarative login, as the checker's and the load generator's `--auth-login` read it:
//! `METHOD /path` sent with a JSON body, the token at a JSON pointer of the answer, sent in a
//! header made from a template (`Authorization: Bearer {token}` unless told otherwise). How
//! the request goes out is each tool's own; what a login is, and how its answer is read, is
//! here once.

use http::Method;
use http::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::model::Operation;

/// How a token is sent unless told otherwise.
pub const DEFAULT_HEADER: &str = "Authorization: Bearer {token}";

/// Where a token is in a login's answer unless told otherwise.
pub const DEFAULT_TOKEN: &str = "/token";

/// How to log in.
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    pub method: Method,
    pub path: String,
    pub body: Value,
    /// Where the token is in the JSON answer, e.g. `/token`.
    pub token_pointer: String,
    /// The header the token is sent in: its name, and its value with `{token}` in it.
    pub header: (String, String),
}

/// Why a login cannot be set up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoginError {
    #[error("a login is 'METHOD /path', not {0:?}")]
    Operation(String),
    #[error("the login path must start with '/': {0:?}")]
    Path(String),
    #[error("the token pointer must be a JSON pointer like /token, not {0:?}")]
    Pointer(String),
    #[error("a token header looks like 'Name: value with {{token}}', not {0:?}")]
    Header(String),
    #[error("{0:?} is not a header name")]
    HeaderName(String),
    #[error("the token header {0:?} has no {{token}} in it")]
    NoToken(String),
}

/// `'POST /api/auth/login'` read as its method and path (any text after the method: a
/// caller may take a full URL there).
pub fn operation(text: &str) -> Result<(Method, &str), LoginError> {
    let (method, path) = text
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(|| LoginError::Operation(text.to_owned()))?;
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| LoginError::Operation(text.to_owned()))?;
    Ok((method, path.trim()))
}

impl Login {
    /// Parses `'POST /api/auth/login'`, with the body it sends and where its answer holds
    /// the token (empty: a login that answers with cookies, or a reset that answers nothing).
    pub fn parse(text: &str, body: Value, token_pointer: &str) -> Result<Login, LoginError> {
        let (method, path) = operation(text)?;
        if !path.starts_with('/') {
            return Err(LoginError::Path(path.to_owned()));
        }
        if !token_pointer.is_empty() && !token_pointer.starts_with('/') {
            return Err(LoginError::Pointer(token_pointer.to_owned()));
        }
        Ok(Login {
            method,
            path: path.to_owned(),
            body,
            token_pointer: token_pointer.to_owned(),
            header: ("Authorization".to_owned(), "Bearer {token}".to_owned()),
        })
    }

    /// The same, with the token sent as `template` says (`X-Auth-Token: {token}`,
    /// `Authorization: {token}`).
    pub fn with_header(self, template: &str) -> Result<Login, LoginError> {
        let Some((name, value)) = template.split_once(':') else {
            return Err(LoginError::Header(template.to_owned()));
        };
        let (name, value) = (name.trim(), value.trim());
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(LoginError::HeaderName(name.to_owned()));
        }
        if !value.contains("{token}") {
            return Err(LoginError::NoToken(template.to_owned()));
        }
        Ok(Login {
            header: (name.to_owned(), value.to_owned()),
            ..self
        })
    }

    /// Whether `operation` is this login's.
    pub fn is(&self, operation: &Operation) -> bool {
        operation.method == self.method && operation.path == self.path
    }

    /// The string token at the pointer of a JSON answer.
    pub fn token_in(&self, answer: &Value) -> Option<String> {
        answer
            .pointer(&self.token_pointer)?
            .as_str()
            .map(str::to_owned)
    }

    /// The header that carries a token, when the token can go in a header.
    pub fn header_for(&self, token: &str) -> Option<(String, String)> {
        let value = self.header.1.replace("{token}", token);
        HeaderValue::from_str(&value).ok()?;
        Some((self.header.0.clone(), value))
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
            (&login.method, login.path.as_str()),
            (&Method::POST, "/api/auth/login")
        );
        let refused = |text: &str, pointer: &str| {
            Login::parse(text, Value::Null, pointer)
                .unwrap_err()
                .to_string()
        };
        assert!(refused("/api/auth/login", "/token").contains("'METHOD /path'"));
        assert!(refused("POST api/login", "/token").contains("start with '/'"));
        assert!(refused("POST /login", "token").contains("JSON pointer"));
        let login = login.with_header("X-Auth: Token {token}").unwrap();
        assert_eq!(
            login.header_for("abc"),
            Some(("X-Auth".to_owned(), "Token abc".to_owned()))
        );
        assert_eq!(login.header_for("a\nb"), None);
        assert_eq!(
            login.token_in(&serde_json::json!({"token": "t"})),
            Some("t".to_owned())
        );
        for (template, says) in [
            ("Authorization", "looks like"),
            ("Bad Name: {token}", "not a header name"),
            ("Authorization: Bearer", "no {token}"),
        ] {
            let error = login.clone().with_header(template).unwrap_err();
            assert!(error.to_string().contains(says), "{error}");
        }
    }
}
